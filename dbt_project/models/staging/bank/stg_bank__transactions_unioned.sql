{#- One row per bank source, account and that source's transaction ID: every selected bank source's account
    transactions side by side (each already deduplicated within its source), with the account's `bank_account_key`
    (from the source's own accounts) and the account's ids in stg_bank__accounts (`institution`, `account_id`); the
    source's own ids stay in `source_institution`, `source_account_id`. A transaction of an account its source
    does not list keeps its own ids and a key '<source>:<institution>:<account_id>' that matches no other source.
    stg_bank__transactions keeps one row per movement. -#}
with

transactions as (

    {{ bank_source_union('transactions', [
        'institution', 'account_id', 'transaction_id', 'status', 'credit_debit_type', 'transaction_type',
        'transaction_name', 'amount', 'signed_amount', 'currency', 'transaction_datetime', 'booking_date',
        'partie_cnpj_cpf', 'partie_person_type', 'partie_compe_code', 'partie_branch_code', 'partie_number',
        'partie_check_digit', 'raw_json', 'pull_date', 'loaded_at', 'source_file',
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
        transactions.*,
        -- no join_use_nulls: an account its source does not list meets the empty key
        if(
            source_accounts.bank_account_key = '',
            concat(transactions.bank_source, ':', transactions.institution, ':', transactions.account_id),
            source_accounts.bank_account_key
        ) as bank_account_key
    from transactions
    left join source_accounts
        on
            transactions.bank_source = source_accounts.bank_source
            and transactions.institution = source_accounts.institution
            and transactions.account_id = source_accounts.account_id

),

final as (

    select
        keyed.bank_source as bank_source,
        keyed.source_precedence as source_precedence,
        cast(if(accounts.bank_account_key = '', keyed.institution, accounts.institution) as LowCardinality(String))
            as institution,
        cast(if(accounts.bank_account_key = '', keyed.account_id, accounts.account_id) as String) as account_id,
        keyed.transaction_id as transaction_id,
        keyed.status as status,
        keyed.credit_debit_type as credit_debit_type,
        keyed.transaction_type as transaction_type,
        keyed.transaction_name as transaction_name,
        keyed.amount as amount,
        keyed.signed_amount as signed_amount,
        keyed.currency as currency,
        keyed.transaction_datetime as transaction_datetime,
        keyed.booking_date as booking_date,
        keyed.partie_cnpj_cpf as partie_cnpj_cpf,
        keyed.partie_person_type as partie_person_type,
        keyed.partie_compe_code as partie_compe_code,
        keyed.partie_branch_code as partie_branch_code,
        keyed.partie_number as partie_number,
        keyed.partie_check_digit as partie_check_digit,
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
