{{ config(order_by=['currency', 'quote_date']) }}
with

ptax_quotes as (

    select * from {{ ref('stg_bcb__ptax_quotes') }}

),

closing_file as (

    select * from {{ ref('stg_bcb__closing_rates') }}

),

currencies as (

    select * from {{ ref('stg_reference__bcb_currencies') }}

),

ptax_closing as (

    -- the closing bulletin is the official PTAX rate; pick it by type, never by "latest timestamp of the day"
    select
        currency,
        quote_date,
        toNullable(quoted_at) as quoted_at,
        buy,
        sell,
        parity_buy,
        parity_sell,
        'olinda_ptax' as source
    from ptax_quotes
    where
        is_closing
        and currency in (select currency from currencies where rate_source = 'olinda')
    order by quoted_at desc
    limit 1 by currency, quote_date

),

closing_file_rates as (

    -- currencies Olinda PTAX does not serve (CNY): the BCB daily closing file
    select
        currency,
        quote_date,
        cast(null as Nullable(DateTime64(3, 'UTC'))) as quoted_at,
        buy,
        sell,
        parity_buy,
        parity_sell,
        'closing_file' as source
    from closing_file
    where currency in (select currency from currencies where rate_source = 'closing_file')

),

unioned as (

    select * from ptax_closing
    union all
    select * from closing_file_rates

),

final as (

    select
        unioned.currency as currency,
        unioned.quote_date as quote_date,
        currencies.currency_type as currency_type,
        unioned.buy as buy,
        unioned.sell as sell,
        unioned.parity_buy as parity_buy,
        unioned.parity_sell as parity_sell,
        cast(unioned.source as LowCardinality(String)) as source,
        unioned.quoted_at as quoted_at
    from unioned
    inner join currencies on currencies.currency = unioned.currency

)

select * from final
