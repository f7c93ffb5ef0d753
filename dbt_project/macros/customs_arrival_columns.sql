{#- The arrival columns every staging/customs view ends with: `arrived_at` (when the broker's file was taken from
    the inbox, the tie-break between two deliveries of one version) and `loaded_at` (the raw load's). -#}
{% macro customs_arrival_columns() -%}
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at
{%- endmacro %}
