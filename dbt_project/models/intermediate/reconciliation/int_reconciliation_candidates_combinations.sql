{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rules 6 and 7, ONE_TO_MANY and MANY_TO_ONE: one transfer paying exactly the sum of two documents of its
    counterparty (two invoices in one PIX), or two transfers of one counterparty summing exactly to one document
    (an instalment paid in parts). Pairs only: larger combinations are left unmatched for a person. One row per
    (bank movement, ERP document) member of each candidate combination, `match_group_id` naming the combination. -#}
with

transfers as (

    select
        *,
        -- the movement's date bucket: consecutive slices of 2 x window + 1 days, so two dates at most 2 x window
        -- days apart always fall in the same or adjacent buckets
        toInt64(intDiv(toRelativeDayNum(booking_date), 2 * {{ var('reconciliation_date_window_days') }} + 1)) as date_bucket
    from {{ reconciliation_transfers() }}

),

brl_documents as (

    select
        *,
        -- the same buckets as the transfers'
        toInt64(intDiv(toRelativeDayNum(erp_date), 2 * {{ var('reconciliation_date_window_days') }} + 1)) as date_bucket
    from {{ reconciliation_brl_documents() }}

),

brl_documents_near_buckets as (

    -- each document listed under its own bucket and the two next to it: joined on `near_bucket`, a date meets
    -- only the documents dated close to it, instead of every document of its counterparty in the whole history
    select
        *,
        near_bucket
    from brl_documents
    array join [date_bucket - 1, date_bucket, date_bucket + 1] as near_bucket

),

transfers_near_buckets as (

    -- the same listing for the transfers
    select
        *,
        near_bucket
    from transfers
    array join [date_bucket - 1, date_bucket, date_bucket + 1] as near_bucket

),

document_pairs as (

    -- two documents of one counterparty at most 2 x window days apart (the window is applied in the join)
    select
        first.erp_document_key as first_key,
        second.erp_document_key as second_key,
        first.counterparty_tax_id as counterparty_tax_id,
        first.credit_debit_type as credit_debit_type,
        first.erp_date as first_date,
        second.erp_date as second_date,
        first.erp_amount_brl + second.erp_amount_brl as total_brl
    from brl_documents as first
    inner join brl_documents_near_buckets as second
        on
            first.counterparty_tax_id = second.counterparty_tax_id
            and first.credit_debit_type = second.credit_debit_type
            and first.date_bucket = second.near_bucket
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

document_last_parts as (

    -- two movements paying one document: the later of the two (by date, then key) lies within the window of the
    -- document's date and not before its window start (a receivable's issue date). Joined by date bucket, so a
    -- document meets only the transfers near its date.
    select
        brl_documents.erp_document_key as erp_document_key,
        brl_documents.erp_date as erp_date,
        brl_documents.erp_window_start as erp_window_start,
        brl_documents.counterparty_tax_id as counterparty_tax_id,
        brl_documents.credit_debit_type as credit_debit_type,
        transfers_near_buckets.bank_movement_key as last_key,
        transfers_near_buckets.booking_date as last_date,
        -- what the earlier part must have paid
        brl_documents.erp_amount_brl - transfers_near_buckets.amount_brl as earlier_amount_brl
    from brl_documents
    inner join transfers_near_buckets
        on
            brl_documents.counterparty_tax_id = transfers_near_buckets.counterparty_tax_id
            and brl_documents.credit_debit_type = transfers_near_buckets.credit_debit_type
            and brl_documents.date_bucket = transfers_near_buckets.near_bucket
    where
        abs(dateDiff('day', brl_documents.erp_date, transfers_near_buckets.booking_date))
        <= {{ var('reconciliation_date_window_days') }}
        and transfers_near_buckets.booking_date >= brl_documents.erp_window_start

),

movement_pairs as (

    -- the earlier part: a transfer of the counterparty of exactly the rest of the amount, from the document's
    -- window start up to the later part (joined on the amount, so no pair of transfers is formed blindly)
    select
        document_last_parts.erp_document_key as erp_document_key,
        document_last_parts.erp_date as erp_date,
        transfers.bank_movement_key as earlier_key,
        transfers.booking_date as earlier_date,
        document_last_parts.last_key as last_key,
        document_last_parts.last_date as last_date
    from document_last_parts
    inner join transfers
        on
            document_last_parts.counterparty_tax_id = transfers.counterparty_tax_id
            and document_last_parts.credit_debit_type = transfers.credit_debit_type
            and document_last_parts.earlier_amount_brl = transfers.amount_brl
    where
        transfers.booking_date >= document_last_parts.erp_window_start
        and (
            transfers.booking_date < document_last_parts.last_date
            or (
                transfers.booking_date = document_last_parts.last_date
                and transfers.bank_movement_key < document_last_parts.last_key
            )
        )

),

many_to_one as (

    -- the two movements of each pair named in key order (first_key < second_key), as the group id expects
    select
        erp_document_key,
        erp_date,
        least(earlier_key, last_key) as first_key,
        greatest(earlier_key, last_key) as second_key,
        if(earlier_key < last_key, earlier_date, last_date) as first_date,
        if(earlier_key < last_key, last_date, earlier_date) as second_date,
        -- the ERP dates a receivable by its last payment; earlier parts may lie anywhere from its issue date
        abs(dateDiff('day', erp_date, last_date)) as date_distance_days
    from movement_pairs

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
