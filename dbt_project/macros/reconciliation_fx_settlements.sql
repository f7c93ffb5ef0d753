{#- The ERP side of the FX contract rules (1 and 3): the payable settlements of
    int_erp_settlement_documents_unioned that name an FX contract, as a subquery to select from. -#}
{% macro reconciliation_fx_settlements() -%}
    (
        select * from {{ ref('int_erp_settlement_documents_unioned') }}
        where erp_document_type = 'PAYABLE' and fx_contract_number is not null
    )
{%- endmacro %}
