{#- Rule 4, EXACT_AMOUNT_COUNTERPARTY: a transfer (TED, PIX, boleto) of exactly the BRL amount of an ERP
    document, in the same direction, with the document's counterparty tax id (CNPJ) on the bank side, within
    the date window. One row per candidate pair; several candidates per movement or document are resolved by
    `int_reconciliation_links_ranked` (closest date first). -#}
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

paired as (

    select
        transfers.bank_movement_key as bank_movement_key,
        brl_documents.erp_document_key as erp_document_key,
        dateDiff('day', brl_documents.erp_date, transfers.booking_date) as date_difference_days
    from transfers
    inner join brl_documents
        on
            transfers.counterparty_tax_id = brl_documents.counterparty_tax_id
            and transfers.credit_debit_type = brl_documents.credit_debit_type
            and transfers.amount_brl = brl_documents.erp_amount_brl
    where abs(date_difference_days) <= {{ var('reconciliation_date_window_days') }}

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
