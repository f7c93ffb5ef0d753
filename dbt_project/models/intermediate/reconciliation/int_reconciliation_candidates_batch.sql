{#- Rule 9, BATCH_PAYMENT: one debit paying several suppliers' invoices ("PAGTO FORNECEDORES LOTE 0001 3 TITULOS"
    names how many, and no counterparty). Its documents are the BRL payable settlements the ERP dated on the
    debit's booking day that no transfer could settle (no candidate of rules 4, 5 or 10); the batch matches when
    they are exactly as many as the text says and sum exactly to the debit. One row per (debit, settlement). -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

exact_amount as (

    select * from {{ ref('int_reconciliation_candidates_exact_amount') }}

),

amount_tolerance as (

    select * from {{ ref('int_reconciliation_candidates_amount_tolerance') }}

),

counterparty_name as (

    select * from {{ ref('int_reconciliation_candidates_counterparty_name') }}

),

batches as (

    select *
    from bank_movements
    where bank_category = 'BATCH_PAYMENT' and credit_debit_type = 'DEBITO'

),

claimable_by_a_transfer as (

    select erp_document_key from exact_amount
    union distinct
    select erp_document_key from amount_tolerance
    union distinct
    select erp_document_key from counterparty_name

),

orphan_settlements as (

    select *
    from erp_documents
    where
        erp_document_type = 'PAYABLE'
        and erp_currency = 'BRL'
        and fx_contract_number is null
        and erp_document_key not in (select erp_document_key from claimable_by_a_transfer)

),

day_totals as (

    select
        erp_date,
        count() as settlements,
        sum(erp_amount_brl) as total_brl
    from orphan_settlements
    group by erp_date

),

matching_batches as (

    select
        batches.bank_movement_key as bank_movement_key,
        batches.booking_date as booking_date
    from batches
    inner join day_totals on batches.booking_date = day_totals.erp_date
    where day_totals.settlements = batches.batch_item_count and day_totals.total_brl = batches.amount_brl

),

final as (

    select
        'BATCH_PAYMENT' as match_rule,
        toUInt8(9) as rule_priority,
        concat('BATCH:', matching_batches.bank_movement_key) as match_group_id,
        matching_batches.bank_movement_key as bank_movement_key,
        orphan_settlements.erp_document_key as erp_document_key,
        toInt32(0) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        cast('0.88' as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        'batch debit: as many settlements of its day as it names, summing exactly to it' as reason
    from matching_batches
    inner join orphan_settlements on matching_batches.booking_date = orphan_settlements.erp_date

)

select * from final
