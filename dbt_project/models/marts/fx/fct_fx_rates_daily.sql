{{ config(order_by=['currency', 'date'], partition_by='toYear(date)') }}

{#- The Siscomex (customs) rate in force on a date, used to convert import values for taxes, is the PTAX selling
    rate of the previous business day (Notícia Siscomex Importação 016/2019, in force from 2019-04-10: on a Monday
    the rate is Friday's PTAX, all day long). Earlier dates followed another rule and get NULL. -#}
{%- set customs_since = var('customs_rate_daily_since') -%}

with

rates as (

    select * from {{ ref('int_fx_closing_rates_unioned') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

business_day_rates as (

    -- the grain is business days: a quote dated on a weekend or holiday would be a data error (tested upstream)
    select
        rates.currency as currency,
        rates.quote_date as date,
        rates.currency_type as currency_type,
        rates.buy as buy,
        rates.sell as sell,
        rates.parity_buy as parity_buy,
        rates.parity_sell as parity_sell,
        rates.source as source,
        calendar.previous_business_day as previous_business_day
    from rates
    inner join calendar on calendar.date = rates.quote_date
    where calendar.is_business_day

),

with_previous_quote as (

    select
        *,
        lagInFrame(toNullable(date)) over previous_row as previous_quote_date,
        lagInFrame(toNullable(sell)) over previous_row as previous_quote_sell
    from business_day_rates
    window previous_row as (partition by currency order by date rows between 1 preceding and current row)

),

final as (

    select
        cast(currency as LowCardinality(String)) as currency,
        date,
        cast(currency_type as LowCardinality(String)) as currency_type,
        cast(buy as Decimal(38, 8)) as ptax_buy,
        cast(sell as Decimal(38, 8)) as ptax_sell,
        cast(parity_buy as Decimal(38, 8)) as parity_buy,
        cast(parity_sell as Decimal(38, 8)) as parity_sell,
        cast(source as LowCardinality(String)) as source,
        cast(
            if(date >= toDate('{{ customs_since }}'), previous_business_day, null) as Nullable(Date)
        ) as customs_rate_date,
        -- strict rule: the quote of exactly that day; a missing quote gives NULL (and a warning test), not an older rate
        cast(
            if(
                date >= toDate('{{ customs_since }}') and previous_quote_date = previous_business_day,
                previous_quote_sell,
                null
            ) as Nullable(Decimal(38, 8))
        ) as customs_rate
    from with_previous_quote

)

select * from final
