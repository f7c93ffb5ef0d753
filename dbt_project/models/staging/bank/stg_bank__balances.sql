{#- A table, not a view: the cross-source matching below ran again for each of its data tests and each model
    reading it (dbt_project/README.md, "Which models are tables"). -#}
{{ config(materialized='table', order_by=['institution', 'account_id', 'update_datetime']) }}
{#- One row per bank account (`bank_account_key`, with its stg_bank__accounts ids) and balance timestamp: when two
    sources report the account's balance at the same instant, the source first in precedence wins (open_finance,
    pluggy, bank_statement); `also_in_sources` names the others. Different instants are different balances: each
    source's snapshots are true at their own time. -#}
with

balances as (

    select * from {{ ref('stg_bank__balances_unioned') }}

),

sources_per_instant as (

    select
        bank_account_key as instant_account_key,
        update_datetime as instant_datetime,
        groupArray((source_precedence, bank_source)) as seen_by
    from balances
    group by bank_account_key, update_datetime

),

first_in_precedence as (

    select *
    from balances
    order by source_precedence, source_institution, source_account_id, loaded_at desc
    limit 1 by bank_account_key, update_datetime

),

final as (

    select
        first_in_precedence.* except (source_precedence),
        cast(
            arrayMap(
                seen -> seen.2,
                arraySort(arrayFilter(seen -> seen.2 != first_in_precedence.bank_source, sources_per_instant.seen_by))
            ) as Array(String)
        ) as also_in_sources
    from first_in_precedence
    inner join sources_per_instant
        on
            first_in_precedence.bank_account_key = sources_per_instant.instant_account_key
            and first_in_precedence.update_datetime = sources_per_instant.instant_datetime

)

select * from final
