{#- A raw table of an OPTIONAL source (one that runs only where it is configured, e.g. Pluggy): `source(...)` when
    the raw table exists, else an empty relation with exactly the columns and types the source declares in its
    sources YAML (`ml_scores_relation` is this for the ML scores), so its staging views and everything downstream
    build, with no rows, in a warehouse where the source never ran. Existence is checked on the raw table itself
    (the graph's source node), so a unit test's fixture still replaces `source(...)`. At parse time it is always
    the source: lineage is the same either way. -#}
{% macro optional_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if not execute -%}
        {{ relation }}
    {%- else -%}
        {%- set node = graph.sources['source.' ~ project_name ~ '.' ~ source_name ~ '.' ~ table_name] -%}
        {%- set existing = adapter.get_relation(
            database=node.database, schema=node.schema, identifier=node.identifier
        ) -%}
        {%- if existing is not none -%}
            {{ relation }}
        {%- else -%}
            {%- set structure = [] -%}
            {%- for column in node.columns.values() -%}
                {%- do structure.append('`' ~ column.name ~ '` ' ~ column.data_type) -%}
            {%- endfor -%}
            {{ log('optional_source: ' ~ node.schema ~ '.' ~ node.identifier ~ ' does not exist (the source never ran): reading it as empty', info=True) }}
            null('{{ structure | join(", ") | replace("'", "\\'") }}')
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
