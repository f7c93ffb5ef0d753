{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 4, EXACT_AMOUNT_COUNTERPARTY: a transfer (TED, PIX, boleto) of exactly the BRL amount of an ERP
    document, in the same direction, with the document's counterparty tax id (CNPJ) on the bank side, within
    the date window. One row per candidate pair; several candidates per movement or document are resolved by
    `int_reconciliation_links_ranked` (closest date first). -#}
with

paired as (

    {{ reconciliation_transfer_document_pairs(same_amount=true) }}

),

final as (

    select
        'EXACT_AMOUNT_COUNTERPARTY' as match_rule,
        toUInt8(4) as rule_priority,
        concat('EXACT:', bank_movement_key) as match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        -- 0.97 on the same day, 0.02 less per day apart
        cast(toDecimal32(97 - 2 * abs(date_difference_days), 2) / 100 as Decimal(3, 2)) as confidence,
        cast(false as Bool) as needs_investigation,
        if(
            date_difference_days = 0,
            'same amount, counterparty and date',
            concat('same amount and counterparty, ', toString(date_difference_days), ' day(s) from the ERP date')
        ) as reason
    from paired

)

select * from final
