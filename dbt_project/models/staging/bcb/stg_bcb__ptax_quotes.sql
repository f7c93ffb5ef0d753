with

source as (

    select * from {{ source('bcb', 'bcb__ptax_quotes') }}

),

renamed as (

    select
        cast(currency as LowCardinality(String)) as currency,
        cast(quote_date as Date) as quote_date,
        cast(quoted_at as DateTime64(3, 'UTC')) as quoted_at,
        cast(bulletin_type as LowCardinality(String)) as bulletin_type,
        cast(is_closing as Bool) as is_closing,
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
    limit 1 by currency, quoted_at, bulletin_type

)

select * from deduplicated
