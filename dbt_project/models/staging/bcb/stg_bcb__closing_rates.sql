with

source as (

    select * from {{ source('bcb', 'bcb__closing_rates') }}

),

renamed as (

    select
        cast(currency as LowCardinality(String)) as currency,
        cast(quote_date as Date) as quote_date,
        cast(bcb_currency_code as LowCardinality(String)) as bcb_currency_code,
        cast(currency_type as LowCardinality(String)) as currency_type,
        cast(buy as Decimal(38, 15)) as buy,
        cast(sell as Decimal(38, 15)) as sell,
        cast(parity_buy as Decimal(38, 15)) as parity_buy,
        cast(parity_sell as Decimal(38, 15)) as parity_sell,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

deduplicated as (

    select *
    from renamed
    order by loaded_at desc, source_file desc
    limit 1 by currency, quote_date

)

select * from deduplicated
