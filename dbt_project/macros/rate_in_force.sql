{#- The condition that a row of `rates` (a reference seed with `valid_from` and a NULL-able `valid_to`, both
    inclusive) is in force on `on_date` (a SQL date expression). Every tax rate lookup uses it. -#}
{% macro rate_in_force(rates, on_date) -%}
    {{ on_date }} >= {{ rates }}.valid_from and ({{ rates }}.valid_to is null or {{ on_date }} <= {{ rates }}.valid_to)
{%- endmacro %}
