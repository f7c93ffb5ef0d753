{#- Fails with one row per duplicated key: the key values and how often they occur.
    Our replacement for dbt_utils.unique_combination_of_columns (no package downloads on these machines).
    NULLs in a key column count as equal to each other, as GROUP BY groups them. -#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count() as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having occurrences > 1
{% endtest %}
