{#- The `from` ... `where` of a tax rate lookup: each row of `rows` with the rows of the reference seed
    `rates_model` (read as `rates_alias`) in force on its `on_date` column (rate_in_force); with `match` =
    (seed column, row column) only the seed rows of the row's key (an NCM, a state), else every seed row (the
    general rules, filtered by the caller: it may go on with `and ...`). -#}
{% macro rates_in_force(rows, on_date, rates_model, rates_alias, match=none) -%}
    from {{ rows }}
    {%- if match %}
    inner join {{ ref(rates_model) }} as {{ rates_alias }} on {{ rates_alias }}.{{ match[0] }} = {{ rows }}.{{ match[1] }}
    {%- else %}
    cross join {{ ref(rates_model) }} as {{ rates_alias }}
    {%- endif %}
    where {{ rate_in_force(rates_alias, rows ~ '.' ~ on_date) }}
{%- endmacro %}
