{#- ICMS on imports is charged "por dentro" (LC 87/1996, art. 13, V and § 1, I): the tax is part of its own base,
    so ICMS = base x rate / (1 - rate), rounded to the centavo, with `icms_rate_pct` of the row. -#}
{% macro icms_por_dentro(base) -%}
    round({{ base }} * (icms_rate_pct / 100) / (1 - icms_rate_pct / 100), 2)
{%- endmacro %}
