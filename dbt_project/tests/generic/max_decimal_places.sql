{#- Fails with every value that has more than `places` decimals, i.e. that a Decimal(_, places) column
    would silently truncate. Guards the mart contracts, which keep BCB rates at 8 decimals. -#}
{% test max_decimal_places(model, column_name, places) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} != toDecimal128({{ column_name }}, {{ places }})
{% endtest %}
