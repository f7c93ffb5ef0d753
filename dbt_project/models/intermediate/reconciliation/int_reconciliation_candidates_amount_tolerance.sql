{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 5, AMOUNT_WITHIN_TOLERANCE: a transfer with the document's counterparty and direction, within the date
    window, whose amount differs from the document's by a bank fee at most: a credit short of the receivable
    (collection fee deducted), or a debit above the payable (transfer fee added). One row per candidate pair. -#}
with

paired as (

    select
        *,
        -- the fee the bank kept (credit) or charged on top (debit), positive either way
        if(credit_debit_type = 'CREDITO', -1, 1) * amount_difference_brl as fee_brl
    from ({{ reconciliation_transfer_document_pairs() }})
    where fee_brl > 0 and fee_brl <= {{ var('reconciliation_fee_tolerance_brl') }}

),

final as (

    select
        'AMOUNT_WITHIN_TOLERANCE' as match_rule,
        toUInt8(5) as rule_priority,
        concat('TOLERANCE:', bank_movement_key) as match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(amount_difference_brl as Decimal(18, 4))) as amount_difference_brl,
        -- 0.90 on the same day, 0.02 less per day apart
        cast(toDecimal32(90 - 2 * abs(date_difference_days), 2) / 100 as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        concat('amount differs by a bank fee of ', toString(fee_brl), ' BRL') as reason
    from paired

)

select * from final
