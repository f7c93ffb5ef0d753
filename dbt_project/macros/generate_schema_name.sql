{#- A dbt schema is a ClickHouse database. Models land in exactly the database their folder names
    (`+schema:` in dbt_project.yml: staging, intermediate, marts; seeds in raw), never `<target>_<custom>`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
