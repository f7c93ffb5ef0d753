{#- The `ml.<model>__scores` table a staging view reads: `source('ml', table_name)` when the table exists, else
    (no scoring run has created it yet: a fresh warehouse, a dbt build before the first ML run, the pure-dbt test
    fixture) an empty relation with exactly the columns and types the source declares in _ml__sources.yml, so
    every model downstream still builds, with no ML rows. The next dbt run after a scoring run (Dagster runs the
    staging view again, since it is downstream of the `ml/<model>__scores` asset) reads the real table. At parse
    time (`execute` false) it is always the source, so lineage is the same either way. The ML scores are an optional
    source like any other: macros/optional_source.sql does it. -#}
{% macro ml_scores_relation(table_name) -%}
    {{ optional_source('ml', table_name) }}
{%- endmacro %}
