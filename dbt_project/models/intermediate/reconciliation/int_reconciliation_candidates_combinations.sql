{#- Rules 6 and 7, ONE_TO_MANY and MANY_TO_ONE: one transfer paying exactly the sum of two documents of its
    counterparty (two invoices in one PIX), or two transfers of one counterparty summing exactly to one document
    (an instalment paid in parts). Pairs only: larger combinations are left unmatched for a person. One row per
    (bank movement, ERP document) member of each candidate combination, `match_group_id` naming the combination. -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

transfers as (

    select *
    from bank_movements
    where bank_category = 'TRANSFER'

),

brl_documents as (

    select *
    from erp_documents
    where counterparty_tax_id is not null and erp_currency = 'BRL' and fx_contract_number is null

),

document_pairs as (

    select
        first.erp_document_key as first_key,
        second.erp_document_key as second_key,
        first.counterparty_tax_id as counterparty_tax_id,
        first.credit_debit_type as credit_debit_type,
        first.erp_date as first_date,
        second.erp_date as second_date,
        first.erp_amount_brl + second.erp_amount_brl as total_brl
    from brl_documents as first
    inner join brl_documents as second
        on
            first.counterparty_tax_id = second.counterparty_tax_id
            and first.credit_debit_type = second.credit_debit_type
    where
        first.erp_document_key < second.erp_document_key
        and abs(dateDiff('day', first.erp_date, second.erp_date)) <= 2 * {{ var('reconciliation_date_window_days') }}

),

one_to_many as (

    -- one movement, both documents dated within the window of it
    select
        transfers.bank_movement_key as bank_movement_key,
        transfers.booking_date as booking_date,
        document_pairs.first_key as first_key,
        document_pairs.second_key as second_key,
        document_pairs.first_date as first_date,
        document_pairs.second_date as second_date,
        greatest(
            abs(dateDiff('day', document_pairs.first_date, transfers.booking_date)),
            abs(dateDiff('day', document_pairs.second_date, transfers.booking_date))
        ) as date_distance_days
    from transfers
    inner join document_pairs
        on
            transfers.counterparty_tax_id = document_pairs.counterparty_tax_id
            and transfers.credit_debit_type = document_pairs.credit_debit_type
            and transfers.amount_brl = document_pairs.total_brl
    where date_distance_days <= {{ var('reconciliation_date_window_days') }}

),

movement_pairs as (

    select
        first.bank_movement_key as first_key,
        second.bank_movement_key as second_key,
        first.counterparty_tax_id as counterparty_tax_id,
        first.credit_debit_type as credit_debit_type,
        first.booking_date as first_date,
        second.booking_date as second_date,
        first.amount_brl + second.amount_brl as total_brl
    from transfers as first
    inner join transfers as second
        on
            first.counterparty_tax_id = second.counterparty_tax_id
            and first.credit_debit_type = second.credit_debit_type
    where first.bank_movement_key < second.bank_movement_key

),

many_to_one as (

    -- two movements from the document's window start (a receivable's issue date) to its date + the window
    select
        brl_documents.erp_document_key as erp_document_key,
        brl_documents.erp_date as erp_date,
        movement_pairs.first_key as first_key,
        movement_pairs.second_key as second_key,
        movement_pairs.first_date as first_date,
        movement_pairs.second_date as second_date,
        -- the ERP dates a receivable by its last payment; earlier parts may lie anywhere from its issue date
        abs(dateDiff('day', brl_documents.erp_date, greatest(movement_pairs.first_date, movement_pairs.second_date)))
        as date_distance_days
    from brl_documents
    inner join movement_pairs
        on
            brl_documents.counterparty_tax_id = movement_pairs.counterparty_tax_id
            and brl_documents.credit_debit_type = movement_pairs.credit_debit_type
            and brl_documents.erp_amount_brl = movement_pairs.total_brl
    where
        least(movement_pairs.first_date, movement_pairs.second_date) >= brl_documents.erp_window_start
        and date_distance_days <= {{ var('reconciliation_date_window_days') }}

),

members as (

    -- one row per (movement, document) of each combination; the group id names the combination by its members
    select
        'ONE_TO_MANY' as match_rule,
        toUInt8(6) as rule_priority,
        concat('ONE_TO_MANY:', lower(hex(cityHash64(bank_movement_key, first_key, second_key)))) as match_group_id,
        bank_movement_key,
        member.1 as erp_document_key,
        dateDiff('day', member.2, booking_date) as date_difference_days,
        date_distance_days
    from one_to_many
    array join [(first_key, first_date), (second_key, second_date)] as member
    union all
    select
        'MANY_TO_ONE' as match_rule,
        toUInt8(7) as rule_priority,
        concat('MANY_TO_ONE:', lower(hex(cityHash64(erp_document_key, first_key, second_key)))) as match_group_id,
        member.1 as bank_movement_key,
        erp_document_key,
        dateDiff('day', erp_date, member.2) as date_difference_days,
        date_distance_days
    from many_to_one
    array join [(first_key, first_date), (second_key, second_date)] as member

),

final as (

    select
        match_rule,
        rule_priority,
        match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        -- 0.85 on the ERP date, 0.02 less per day of the farthest member (of the last part, many-to-one)
        cast(toDecimal32(85 - 2 * date_distance_days, 2) / 100 as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        if(
            match_rule = 'ONE_TO_MANY',
            'one transfer pays exactly the sum of two documents of its counterparty',
            'two transfers of the counterparty sum exactly to the document'
        ) as reason
    from members

)

select * from final
