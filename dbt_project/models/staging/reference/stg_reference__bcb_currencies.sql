with

source as (

    select * from {{ ref('bcb_currencies') }}

),

renamed as (

    select
        cast(currency as LowCardinality(String)) as currency,
        cast(bcb_currency_code as LowCardinality(String)) as bcb_currency_code,
        cast(currency_type as LowCardinality(String)) as currency_type,
        cast(name as String) as currency_name,
        cast(source as LowCardinality(String)) as rate_source
    from source

)

select * from renamed
