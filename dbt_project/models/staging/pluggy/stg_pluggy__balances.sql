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
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(update_datetime as DateTime64(3, 'UTC')) as update_datetime,
        cast(balance as Decimal(18, 4)) as available_amount,
        cast(currency as LowCardinality(String)) as available_currency,
        cast(0 as Decimal(18, 4)) as blocked_amount,
        cast(currency as LowCardinality(String)) as blocked_currency,
        cast(coalesce(automatically_invested_balance, 0) as Decimal(18, 4)) as automatically_invested_amount,
        cast(currency as LowCardinality(String)) as automatically_invested_currency,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file,
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
