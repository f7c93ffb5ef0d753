{#- A JSON object as a ClickHouse String expression: `pairs` is a list of (key, SQL expression). Each value goes
    through toJSONString (strings quoted and escaped, Decimals and numbers as numbers, dates as "YYYY-MM-DD"),
    NULL becomes null; a key listed in `raw_keys` takes its expression as JSON text already (a nested object or
    array built with this macro). Keys are literals written in the model, never data. -#}
{% macro json_object(pairs, raw_keys=[]) -%}
    concat(
        '{'
        {%- for key, expression in pairs %},
        '{{ "," if not loop.first }}"{{ key }}":',
        {% if key in raw_keys %}{{ expression }}{% else %}ifNull(toJSONString({{ expression }}), 'null'){% endif %}
        {%- endfor %},
        '}'
    )
{%- endmacro %}
