{#- One row per bank source and that source's card account (institution, credit_card_account_id): the card accounts
    of every selected bank source side by side, each with its `card_account_key` (macros/card_account_key.sql: the
    issuing bank's COMPE code and the card's last four digits; empty when the source does not say both).
    stg_bank__credit_card_accounts keeps one per key. -#}
with

unioned as (

    {{ bank_source_union('credit_card_accounts') }}

),

keyed as (

    select
        *,
        {{ card_account_key('compe_code', 'card_last4') }} as card_account_key
    from unioned

)

select * from keyed
