{#- Rules 4 and 5: every transfer and BRL document of the same counterparty tax id and direction whose dates lie
    within `var('reconciliation_date_window_days')`; with `same_amount`, only those of exactly the same amount (a
    join key, so the amount rule never forms the counterparty's other pairs). One row per pair: the keys, the
    days from the ERP date to the booking date, the bank amount minus the ERP amount and the direction. -#}
{% macro reconciliation_transfer_document_pairs(same_amount=false) -%}
    select
        transfers.bank_movement_key as bank_movement_key,
        brl_documents.erp_document_key as erp_document_key,
        dateDiff('day', brl_documents.erp_date, transfers.booking_date) as date_difference_days,
        transfers.amount_brl - brl_documents.erp_amount_brl as amount_difference_brl,
        transfers.credit_debit_type as credit_debit_type
    from {{ reconciliation_transfers() }} as transfers
    inner join {{ reconciliation_brl_documents() }} as brl_documents
        on
            transfers.counterparty_tax_id = brl_documents.counterparty_tax_id
            and transfers.credit_debit_type = brl_documents.credit_debit_type
            {%- if same_amount %}
            and transfers.amount_brl = brl_documents.erp_amount_brl
            {%- endif %}
    where abs(date_difference_days) <= {{ var('reconciliation_date_window_days') }}
{%- endmacro %}
