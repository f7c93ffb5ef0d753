{#- A money amount as text for the recommendation sentences: rounded to the centavo, always two decimals, no
    thousands separator ("1234567.80"). -#}
{% macro money_text(expression) -%}
    toDecimalString(round(toDecimal128({{ expression }}, 8), 2), 2)
{%- endmacro %}
