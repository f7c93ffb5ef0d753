{#- A lookup by NCM prefix (a seed with `ncm_prefix`: the PIS/COFINS exceptions, the Imposto Seletivo rates), read
    as `rates_alias`: for each row of `rows`, the seed row whose prefix starts the row's `ncm`, in force on its
    `on_date` column, the longest prefix winning; a row no prefix matches is left out. Selects the row's `keys`
    ({output name: column of rows}) and the caller's `columns` (select expressions over `rates_alias`). -#}
{% macro ncm_prefix_rate_in_force(rows, keys, on_date, rates_model, rates_alias, columns) -%}
    select
        {%- for name, column in keys.items() %}
        {{ rows }}.{{ column }} as {{ name }},
        {%- endfor %}
        {{ columns | join(',\n        ') }}
    {{ rates_in_force(rows, on_date, rates_model, rates_alias) }}
        and startsWith({{ rows }}.ncm, {{ rates_alias }}.ncm_prefix)
    order by length({{ rates_alias }}.ncm_prefix) desc
    limit 1 by {{ keys.keys() | join(', ') }}
{%- endmacro %}
