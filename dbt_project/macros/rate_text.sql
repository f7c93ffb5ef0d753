{#- An FX rate as text for the recommendation sentences: four decimals, as PTAX is quoted ("5.1234"). -#}
{% macro rate_text(expression) -%}
    toDecimalString(round(toDecimal128({{ expression }}, 8), 4), 4)
{%- endmacro %}
