{#- The ERP side of the BRL amount rules (4-8): the documents of int_erp_settlement_documents_unioned in BRL
    with a counterparty tax id and no FX contract, as a subquery to select from. -#}
{% macro reconciliation_brl_documents() -%}
    (
        select * from {{ ref('int_erp_settlement_documents_unioned') }}
        where counterparty_tax_id is not null and erp_currency = 'BRL' and fx_contract_number is null
    )
{%- endmacro %}
