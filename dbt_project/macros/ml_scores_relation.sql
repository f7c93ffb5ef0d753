{#- The `ml.<model>__scores` table a staging view reads: `source('ml', table_name)` when the table exists, else
    (no scoring run has created it yet: a fresh warehouse, a dbt build before the first ML run, the pure-dbt test
    fixture) an empty relation with exactly the columns and types the source declares in _ml__sources.yml, so
    every model downstream still builds, with no ML rows. The next dbt run after a scoring run (Dagster runs the
    staging view again, since it is downstream of the `ml/<model>__scores` asset) reads the real table. At parse
    time (`execute` false) it is always the source, so lineage is the same either way. -#}
{% macro ml_scores_relation(table_name) -%}
    {%- set relation = source('ml', table_name) -%}
    {%- if not execute -%}
        {{ relation }}
    {%- else -%}
        {%- set existing = adapter.get_relation(
            database=relation.database, schema=relation.schema, identifier=relation.identifier
        ) -%}
        {%- if existing is not none -%}
            {{ relation }}
        {%- else -%}
            {%- set node = graph.sources['source.' ~ project_name ~ '.ml.' ~ table_name] -%}
            {%- set structure = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do structure.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
            {%- endfor -%}
            {{ log('ml_scores_relation: ' ~ relation ~ ' does not exist yet (no scoring run): reading it as empty', info=True) }}
            null('{{ structure | join(", ") | replace("'", "\\'") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
