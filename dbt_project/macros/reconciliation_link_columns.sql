{#- The columns of a reconciliation link, in order: what every rule model yields, the ranking keeps and the mart
    unions with the links confirmed in the cockpit. -#}
{% macro reconciliation_link_columns() -%}
    {{ return([
        'match_rule', 'rule_priority', 'match_group_id', 'bank_movement_key', 'erp_document_key',
        'date_difference_days', 'amount_difference_brl', 'confidence', 'needs_investigation', 'reason',
    ]) }}
{%- endmacro %}
