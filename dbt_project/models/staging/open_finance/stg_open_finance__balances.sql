{#- One row per account and balance snapshot; every pull re-reads the current balance, the latest pull wins. -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__balances') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(update_datetime as DateTime64(3, 'UTC')) as update_datetime,
        cast(available_amount as Decimal(18, 4)) as available_amount,
        cast(available_currency as LowCardinality(String)) as available_currency,
        cast(blocked_amount as Decimal(18, 4)) as blocked_amount,
        cast(blocked_currency as LowCardinality(String)) as blocked_currency,
        cast(automatically_invested_amount as Decimal(18, 4)) as automatically_invested_amount,
        cast(automatically_invested_currency as LowCardinality(String)) as automatically_invested_currency,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id, update_datetime

)

select * from latest
