{#- One row per BANK account and balance snapshot (`update_datetime`, the account's updatedAt), in
    stg_open_finance__balances' columns. Pluggy sends one balance (`balance`, the funds of the account): it is the
    available amount; Pluggy sends no blocked amount (0); the automatically invested balance is bankData's, 0 when
    absent. The latest load of a snapshot wins. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__balances') }}

),

renamed as (

    select
        {{- bank_contract_columns('balances', {
            'available_amount': "balance",
            'available_currency': "currency",
            'blocked_amount': "0",
            'blocked_currency': "currency",
            'automatically_invested_amount': "coalesce(automatically_invested_balance, 0)",
            'automatically_invested_currency': "currency",
        }) }},
        cast(item_id as String) as item_id,
        cast(balance_date as Date) as balance_date,
        cast(closing_balance as Nullable(Decimal(18, 4))) as closing_balance
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id, update_datetime

)

select * from latest
