{#- The bank sources `stg_bank__*` unions (models/staging/bank/README.md), in precedence order.
    `var('bank_sources')` lists every bank source whose staging models (`stg_<source>__accounts`, `__balances`,
    `__transactions`) the project has: adding a source is one line there. `IMPORTAU_BANK_SOURCES` (comma
    separated, empty = all of them) narrows that to the sources a deployment actually receives, for instance
    `importau demo --bank-source`, or a company that only has statement files: the others' raw tables do not exist
    there. An unknown name is an error naming the known ones. -#}
{% macro bank_sources() -%}
    {%- set known = var('bank_sources') -%}
    {#- a unit test sets bank_sources_follow_env false: its fixtures, not the deployment, say which sources -#}
    {%- set wanted = env_var('IMPORTAU_BANK_SOURCES', '') if var('bank_sources_follow_env', true) else '' -%}
    {%- if not wanted.strip() -%}
        {{ return(known) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for name in wanted.split(',') -%}
        {%- if name.strip() and name.strip() not in known -%}
            {{ exceptions.raise_compiler_error(
                "IMPORTAU_BANK_SOURCES names '" ~ name.strip() ~ "', not a bank source of this project (var "
                ~ "bank_sources: " ~ known | join(', ') ~ ")"
            ) }}
        {%- endif -%}
        {%- do names.append(name.strip()) -%}
    {%- endfor -%}
    {{ return(known | select('in', names) | list) }}
{%- endmacro %}

{#- `select <columns> from stg_<source>__<entity>` of every selected bank source, `union all`, with `bank_source`
    and `source_precedence` (1 = the first of var('bank_sources')). Columns are named, never positional, so a
    source whose staging lacks one fails the build naming it. Every source's `ref()` is recorded at parse time
    (lineage, build order), selected or not. -#}
{% macro bank_source_union(entity, columns) -%}
    {%- set selected = bank_sources() -%}
    {%- set parts = [] -%}
    {%- for source in var('bank_sources') -%}
        {%- set relation = ref('stg_' ~ source ~ '__' ~ entity) -%}
        {%- if source in selected -%}
            {%- do parts.append(
                "select\n        cast('" ~ source ~ "' as LowCardinality(String)) as bank_source,\n"
                ~ "        cast(" ~ loop.index ~ " as UInt8) as source_precedence,\n        "
                ~ columns | join(",\n        ") ~ "\n    from " ~ relation
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not parts -%}
        {{ exceptions.raise_compiler_error("bank_source_union('" ~ entity ~ "'): no bank source selected") }}
    {%- endif -%}
    {{ parts | join("\n\n    union all\n\n    ") }}
{%- endmacro %}
