{#- A table, not a view: the cross-source matching below ran again for each of its data tests and each model
    reading it (dbt_project/README.md, "Which models are tables"). -#}
{{ config(materialized='table', order_by=['bank_account_key']) }}
{#- One row per bank account (`bank_account_key`), whichever sources see it: the row of the source first in
    precedence (var bank_sources: open_finance, then pluggy, then bank_statement) gives the account's
    `institution` and `account_id`, which stg_bank__balances and stg_bank__transactions use for every source's rows
    of that account; `source_account_ids` lists each source's own id ('<source>:<institution>:<account_id>'). -#}
with

accounts as (

    select * from {{ ref('stg_bank__accounts_unioned') }}

),

source_ids as (

    select
        bank_account_key as ids_account_key,
        arraySort(groupArray(concat(bank_source, ':', institution, ':', account_id))) as source_account_ids
    from accounts
    group by bank_account_key

),

first_in_precedence as (

    select *
    from accounts
    order by source_precedence, institution, account_id
    limit 1 by bank_account_key

),

final as (

    select
        first_in_precedence.bank_source as bank_source,
        first_in_precedence.institution as institution,
        first_in_precedence.account_id as account_id,
        first_in_precedence.brand_name as brand_name,
        first_in_precedence.company_cnpj as company_cnpj,
        first_in_precedence.account_type as account_type,
        first_in_precedence.compe_code as compe_code,
        first_in_precedence.branch_code as branch_code,
        first_in_precedence.number as number,
        first_in_precedence.check_digit as check_digit,
        first_in_precedence.raw_json as raw_json,
        first_in_precedence.pull_date as pull_date,
        first_in_precedence.loaded_at as loaded_at,
        first_in_precedence.source_file as source_file,
        first_in_precedence.bank_account_key as bank_account_key,
        source_ids.source_account_ids as source_account_ids
    from first_in_precedence
    inner join source_ids on first_in_precedence.bank_account_key = source_ids.ids_account_key

)

select * from final
