{#- One row per bank source, account and balance timestamp: every selected bank source's balances side by side,
    with the account's `bank_account_key` (from the source's own accounts) and the account's ids in
    stg_bank__accounts (`institution`, `account_id`); the source's own ids stay in `source_institution`,
    `source_account_id`. A balance of an account its source does not list keeps its own ids and a key
    '<source>:<institution>:<account_id>' that matches no other source. stg_bank__balances keeps one per time. -#}
with

balances as (

    {{ bank_source_union('balances', [
        'institution', 'account_id', 'update_datetime', 'available_amount', 'available_currency',
        'blocked_amount', 'blocked_currency', 'automatically_invested_amount', 'automatically_invested_currency',
        'raw_json', 'pull_date', 'loaded_at', 'source_file',
    ]) }}

),

source_accounts as (

    select bank_source, institution, account_id, bank_account_key
    from {{ ref('stg_bank__accounts_unioned') }}

),

accounts as (

    select bank_account_key, institution, account_id
    from {{ ref('stg_bank__accounts') }}

),

keyed as (

    select
        balances.*,
        -- no join_use_nulls: an account its source does not list meets the empty key
        if(
            source_accounts.bank_account_key = '',
            concat(balances.bank_source, ':', balances.institution, ':', balances.account_id),
            source_accounts.bank_account_key
        ) as bank_account_key
    from balances
    left join source_accounts
        on
            balances.bank_source = source_accounts.bank_source
            and balances.institution = source_accounts.institution
            and balances.account_id = source_accounts.account_id

),

final as (

    select
        keyed.bank_source as bank_source,
        keyed.source_precedence as source_precedence,
        cast(if(accounts.bank_account_key = '', keyed.institution, accounts.institution) as LowCardinality(String))
            as institution,
        cast(if(accounts.bank_account_key = '', keyed.account_id, accounts.account_id) as String) as account_id,
        keyed.update_datetime as update_datetime,
        keyed.available_amount as available_amount,
        keyed.available_currency as available_currency,
        keyed.blocked_amount as blocked_amount,
        keyed.blocked_currency as blocked_currency,
        keyed.automatically_invested_amount as automatically_invested_amount,
        keyed.automatically_invested_currency as automatically_invested_currency,
        keyed.raw_json as raw_json,
        keyed.pull_date as pull_date,
        keyed.loaded_at as loaded_at,
        keyed.source_file as source_file,
        cast(keyed.bank_account_key as String) as bank_account_key,
        keyed.institution as source_institution,
        keyed.account_id as source_account_id
    from keyed
    left join accounts on keyed.bank_account_key = accounts.bank_account_key

)

select * from final
