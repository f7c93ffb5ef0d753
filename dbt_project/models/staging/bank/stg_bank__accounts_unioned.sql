{#- One row per bank source and that source's account (institution, account_id): the accounts of every selected
    bank source (macros/bank_sources.sql) side by side, each with its `bank_account_key` (macros/bank_account_key.sql).
    stg_bank__accounts keeps one per key. -#}
with

unioned as (

    {{ bank_source_union('accounts') }}

),

keyed as (

    select
        *,
        {{ bank_account_key('compe_code', 'branch_code', 'number', 'check_digit') }} as bank_account_key
    from unioned

)

select * from keyed
