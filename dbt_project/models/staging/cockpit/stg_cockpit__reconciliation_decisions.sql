{#- One row per proposed reconciliation match a person decided in the cockpit: the latest decision wins (README.md).
    The decisions live in an append-only JSON Lines file outside the warehouse (cockpit/decisions.py), so a rebuild
    never loses them; no file yet reads as no rows. -#}
{%- set decisions_glob = var('reconciliation_decisions_glob', '') -%}
{#- The data folder is read when dbt runs the model (`execute`), not while it parses: dbt records every env_var a
    parse reads, and a different value in the next invocation (each data folder, each test and benchmark) re-parsed
    this file in every dbt step (1-1.7 s each, issue 10). The parse sees the branch without a file: no refs. -#}
{%- if execute and not decisions_glob and target.name != 'prod' -%}
    {%- set decisions_glob = env_var('IMPORTAU_DATA_DIR', 'data') ~ '/decisions/reconciliation_decisions*.jsonl' -%}
{%- endif -%}
{%- set structure = "decided_at DateTime64(3, 'UTC'), reconciliation_id String, decision String, decided_by String, note String" -%}
with

source as (

    {% if decisions_glob -%}
    select *
    from file(
        '{{ decisions_glob | replace("\\", "\\\\") | replace("'", "\\'") }}',
        'JSONEachRow',
        '{{ structure | replace("'", "\\'") }}'
    )
    {%- else -%}
    -- a ClickHouse server reads files only from its user_files: without the var there are no decisions (README.md)
    select
        toDateTime64(0, 3, 'UTC') as decided_at,
        '' as reconciliation_id,
        '' as decision,
        '' as decided_by,
        '' as note
    where 0
    {%- endif %}

),

latest as (

    select
        reconciliation_id,
        argMax(decision, decided_at) as decision,
        argMax(decided_by, decided_at) as decided_by,
        argMax(note, decided_at) as note,
        max(decided_at) as latest_decided_at,
        count() as decisions_count
    from source
    group by reconciliation_id

),

final as (

    select
        reconciliation_id,
        splitByChar('|', reconciliation_id)[1] as bank_movement_key,
        splitByChar('|', reconciliation_id)[2] as erp_document_key,
        cast(decision as LowCardinality(String)) as decision,
        decided_by,
        note,
        latest_decided_at as decided_at,
        decisions_count
    from latest

)

select * from final
