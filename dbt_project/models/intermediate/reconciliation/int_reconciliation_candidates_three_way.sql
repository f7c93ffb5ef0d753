{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 8, THREE_TO_ONE: three transfers of one counterparty summing exactly to one document (a supplier payment
    split over three debits). The last of the three lies within the window of the document's date; the two before
    it from the window's start on, ordered (date, key) so each triple is found once. One row per (movement,
    document) member of each candidate triple, `match_group_id` naming it. -#}
with

transfers as (

    select * from {{ reconciliation_transfers() }}
    where counterparty_tax_id is not null

),

brl_documents as (

    select * from {{ reconciliation_brl_documents() }}

),

last_parts as (

    select
        brl_documents.erp_document_key as erp_document_key,
        brl_documents.erp_date as erp_date,
        brl_documents.counterparty_tax_id as counterparty_tax_id,
        brl_documents.credit_debit_type as credit_debit_type,
        transfers.bank_movement_key as last_key,
        transfers.booking_date as last_date,
        brl_documents.erp_amount_brl - transfers.amount_brl as rest_brl
    from brl_documents
    inner join transfers
        on
            brl_documents.counterparty_tax_id = transfers.counterparty_tax_id
            and brl_documents.credit_debit_type = transfers.credit_debit_type
    where
        abs(dateDiff('day', brl_documents.erp_date, transfers.booking_date)) <= {{ var('reconciliation_date_window_days') }}
        and transfers.amount_brl < brl_documents.erp_amount_brl

),

middle_parts as (

    -- the second part: earlier than the last, from the document's window start
    select
        last_parts.*,
        transfers.bank_movement_key as middle_key,
        transfers.booking_date as middle_date,
        last_parts.rest_brl - transfers.amount_brl as first_amount_brl
    from last_parts
    inner join transfers
        on
            last_parts.counterparty_tax_id = transfers.counterparty_tax_id
            and last_parts.credit_debit_type = transfers.credit_debit_type
    where
        transfers.amount_brl < last_parts.rest_brl
        and transfers.booking_date >= last_parts.erp_date - {{ var('reconciliation_date_window_days') }}
        and (transfers.booking_date, transfers.bank_movement_key) < (last_parts.last_date, last_parts.last_key)

),

triples as (

    -- the first part: exactly the rest, earlier than the middle one
    select
        middle_parts.erp_document_key as erp_document_key,
        middle_parts.erp_date as erp_date,
        transfers.bank_movement_key as first_key,
        transfers.booking_date as first_date,
        middle_parts.middle_key as middle_key,
        middle_parts.middle_date as middle_date,
        middle_parts.last_key as last_key,
        middle_parts.last_date as last_date
    from middle_parts
    inner join transfers
        on
            middle_parts.counterparty_tax_id = transfers.counterparty_tax_id
            and middle_parts.credit_debit_type = transfers.credit_debit_type
            and middle_parts.first_amount_brl = transfers.amount_brl
    where
        transfers.booking_date >= middle_parts.erp_date - {{ var('reconciliation_date_window_days') }}
        and (transfers.booking_date, transfers.bank_movement_key) < (middle_parts.middle_date, middle_parts.middle_key)

),

members as (

    select
        concat('THREE_TO_ONE:', lower(hex(cityHash64(erp_document_key, first_key, middle_key, last_key))))
        as match_group_id,
        member.1 as bank_movement_key,
        erp_document_key,
        dateDiff('day', erp_date, member.2) as date_difference_days,
        -- the ERP dates a split payment by one of its parts (the first, when it settles on the first debit)
        least(
            abs(dateDiff('day', erp_date, first_date)),
            abs(dateDiff('day', erp_date, middle_date)),
            abs(dateDiff('day', erp_date, last_date))
        ) as date_distance_days
    from triples
    array join [(first_key, first_date), (middle_key, middle_date), (last_key, last_date)] as member

),

final as (

    select
        'THREE_TO_ONE' as match_rule,
        toUInt8(8) as rule_priority,
        match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        -- 0.85 with a part on the ERP date, 0.02 less per day to the nearest part
        cast(toDecimal32(85 - 2 * date_distance_days, 2) / 100 as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        'three transfers of the counterparty sum exactly to the document' as reason
    from members

)

select * from final
