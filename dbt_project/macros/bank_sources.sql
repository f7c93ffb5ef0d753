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

{#- `select <the contract's columns> from stg_<source>__<entity>` of every selected bank source, `union all`, with
    `bank_source` and `source_precedence` (1 = the first of var('bank_sources')). The columns are the bank contract's
    (macros/bank_contract.sql), named, never positional, so a source whose staging lacks one fails the build naming it. Every source's `ref()` is recorded at parse time
    (lineage, build order), selected or not. `having` names the sources that give the entity at all (card bills:
    no statement file gives one); by default every bank source. -#}
{% macro bank_source_union(entity, having=none) -%}
    {%- set columns = bank_contract_names(entity) -%}
    {%- set selected = bank_sources() -%}
    {%- set parts = [] -%}
    {%- for source in var('bank_sources') if having is none or source in having -%}
        {%- set relation = ref('stg_' ~ source ~ '__' ~ entity) -%}
        {%- if source in selected -%}
            {%- do parts.append(
                "select\n        cast('" ~ source ~ "' as LowCardinality(String)) as bank_source,\n"
                ~ "        cast(" ~ loop.index ~ " as UInt8) as source_precedence,\n        "
                ~ columns | join(",\n        ") ~ "\n    from " ~ relation
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not parts and having is not none -%}
        {#- none of the sources that give the entity is selected: no rows, the contract's columns -#}
        {%- set structure = [] -%}
        {%- for name, type, _ in bank_contract(entity) -%}
            {%- do structure.append(name ~ ' ' ~ type) -%}
        {%- endfor -%}
        {%- do parts.append(
            "select\n        cast('' as LowCardinality(String)) as bank_source,\n"
            ~ "        cast(0 as UInt8) as source_precedence,\n        "
            ~ columns | join(",\n        ") ~ "\n    from null('" ~ structure | join(", ") | replace("'", "\\'") ~ "')"
        ) -%}
    {%- endif -%}
    {%- if not parts -%}
        {{ exceptions.raise_compiler_error("bank_source_union('" ~ entity ~ "'): no bank source selected") }}
    {%- endif -%}
    {{ parts | join("\n\n    union all\n\n    ") }}
{%- endmacro %}

{#- The whole body of stg_bank__balances_unioned and stg_bank__transactions_unioned (and, for cards, of
    stg_bank__credit_card_transactions_unioned with `card=true`): every selected source's rows of `entity`
    (bank_source_union), each given its account's key (`bank_account_key`; a card's `card_account_key`) from the
    source's own accounts in stg_bank__accounts_unioned (stg_bank__credit_card_accounts_unioned) and the ids that key
    has in stg_bank__accounts (stg_bank__credit_card_accounts): `institution` and `account_id`
    (`credit_card_account_id`); the source's own stay in `source_institution`, `source_account_id`
    (`source_credit_card_account_id`). A row of an account its source does not list keeps its own ids and a key
    '<source>:<institution>:<account id>' that matches no other source. -#}
{% macro bank_rows_keyed(entity, card=false) -%}
{%- set columns = bank_contract_names(entity) -%}
{%- set id = 'credit_card_account_id' if card else 'account_id' -%}
{%- set key = 'card_account_key' if card else 'bank_account_key' -%}
{%- set accounts_model = 'stg_bank__credit_card_accounts' if card else 'stg_bank__accounts' -%}
with

source_rows as (

    {{ bank_source_union(entity) }}

),

source_accounts as (

    select bank_source, institution, {{ id }}, {{ key }}
    from {{ ref(accounts_model ~ '_unioned') }}

),

accounts as (

    select {{ key }}, institution, {{ id }}
    from {{ ref(accounts_model) }}

),

keyed as (

    select
        source_rows.*,
        -- no join_use_nulls: an account its source does not list meets the empty key
        if(
            source_accounts.{{ key }} = '',
            concat(source_rows.bank_source, ':', source_rows.institution, ':', source_rows.{{ id }}),
            source_accounts.{{ key }}
        ) as {{ key }}
    from source_rows
    left join source_accounts
        on
            source_rows.bank_source = source_accounts.bank_source
            and source_rows.institution = source_accounts.institution
            and source_rows.{{ id }} = source_accounts.{{ id }}

),

final as (

    select
        keyed.bank_source as bank_source,
        keyed.source_precedence as source_precedence,
        cast(if(accounts.{{ key }} = '', keyed.institution, accounts.institution) as LowCardinality(String))
            as institution,
        cast(if(accounts.{{ key }} = '', keyed.{{ id }}, accounts.{{ id }}) as String) as {{ id }},
        {%- for column in columns if column not in ('institution', id) %}
        keyed.{{ column }} as {{ column }},
        {%- endfor %}
        cast(keyed.{{ key }} as String) as {{ key }},
        keyed.institution as source_institution,
        keyed.{{ id }} as source_{{ id }}
    from keyed
    left join accounts on keyed.{{ key }} = accounts.{{ key }}

)

select * from final
{%- endmacro %}
