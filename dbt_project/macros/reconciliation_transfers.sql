{#- The bank side of the BRL amount rules (4-8): the posted transfers (TED, PIX, boleto...) of
    int_bank_movements_classified, as a subquery to select from. -#}
{% macro reconciliation_transfers() -%}
    (select * from {{ ref('int_bank_movements_classified') }} where bank_category = 'TRANSFER')
{%- endmacro %}
