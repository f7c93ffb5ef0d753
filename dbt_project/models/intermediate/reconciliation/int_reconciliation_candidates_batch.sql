{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 9, BATCH_PAYMENT: one debit paying several suppliers' invoices ("PAGTO FORNECEDORES LOTE 0001 3 TITULOS"
    names how many, and no counterparty). Its candidates are the sets of exactly that many (two or three) BRL payable
    settlements the ERP dated on the debit's booking day that sum exactly to it. As for every combination, the
    ranking keeps a set only when none of its settlements was claimed by a transfer (rules 4-7). A debit with more
    than one such set is ambiguous: its sets get 0.70, below the review threshold. One row per (debit, settlement)
    member of each candidate set. -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

batches as (

    select *
    from bank_movements
    where bank_category = 'BATCH_PAYMENT' and credit_debit_type = 'DEBITO' and batch_item_count in (2, 3)

),

day_settlements as (

    select
        erp_document_key,
        erp_date,
        erp_amount_brl
    from erp_documents
    where
        erp_document_type = 'PAYABLE'
        and erp_currency = 'BRL'
        and fx_contract_number is null
        and erp_date in (select booking_date from batches)

),

pairs as (

    select
        first.erp_date as erp_date,
        [first.erp_document_key, second.erp_document_key] as members,
        first.erp_amount_brl + second.erp_amount_brl as total_brl
    from day_settlements as first
    inner join day_settlements as second on first.erp_date = second.erp_date
    where first.erp_document_key < second.erp_document_key

),

triples as (

    select
        pairs.erp_date as erp_date,
        arrayPushBack(pairs.members, third.erp_document_key) as members,
        pairs.total_brl + third.erp_amount_brl as total_brl
    from pairs
    inner join day_settlements as third on pairs.erp_date = third.erp_date
    where pairs.members[2] < third.erp_document_key

),

sets as (

    select * from pairs
    union all
    select * from triples

),

matching as (

    -- the sets stream past the few batch debits: ClickHouse holds a join's right side in memory, and the sets
    -- grow with the cube of a day's settlements (with the sets on the right, 0.44 GiB at scale 30, against 0.06)
    select
        batches.bank_movement_key as bank_movement_key,
        sets.members as members,
        count() over (partition by batches.bank_movement_key) as sets_of_the_batch
    from sets
    inner join batches
        on
            batches.booking_date = sets.erp_date
            and batches.amount_brl = sets.total_brl
            and batches.batch_item_count = length(sets.members)

),

final as (

    select
        'BATCH_PAYMENT' as match_rule,
        toUInt8(9) as rule_priority,
        concat('BATCH:', lower(hex(cityHash64(bank_movement_key, members)))) as match_group_id,
        bank_movement_key,
        member as erp_document_key,
        toInt32(0) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        cast(if(sets_of_the_batch = 1, '0.88', '0.70') as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        if(
            sets_of_the_batch = 1,
            'batch debit: as many settlements of its day as it names, summing exactly to it',
            'batch debit: several sets of settlements of its day sum to it, for a person to choose'
        ) as reason
    from matching
    array join members as member

)

select * from final
