{{ config(order_by=['currency', 'date']) }}

{#- One row per currency (USD, EUR) x business day with a PTAX quote and 60 daily log returns behind it: the
    PTAX selling rate and the FX forecast's features, as known at that day's close. ln returns over 1, 5 and 20
    quotes and the sample standard deviation of the last 20 and 60 daily ln returns (stddevSampStable: ClickHouse
    documents plain stddevSamp as numerically unstable). Values rounded to 10 decimals. The Python twin is
    ml_assets/fx_forecast/features.py (the backtest over the real PTAX history uses it): same definitions, same
    rounding, pinned to the same hand-computed values. Targets (future returns) are not here: training derives
    them from later rows. -#}

with

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

forecast_currencies as (

    select
        rates.currency as currency,
        rates.date as date,
        rates.ptax_sell as ptax_sell,
        log(toFloat64(rates.ptax_sell)) as log_rate
    from rates
    where rates.currency in ('USD', 'EUR')

),

with_returns as (

    select
        currency,
        date,
        ptax_sell,
        row_number() over history as quote_number,
        log_rate - lagInFrame(log_rate, 1) over history as log_return_1d,
        log_rate - lagInFrame(log_rate, 5) over history as log_return_5d,
        log_rate - lagInFrame(log_rate, 20) over history as log_return_20d
    from forecast_currencies
    window history as (partition by currency order by date rows between unbounded preceding and current row)

),

with_volatility as (

    -- quote 1 has no return (lagInFrame gives 0 there); windows of quote 61 on start at quote 2
    select
        *,
        stddevSampStable(log_return_1d) over last_20 as volatility_20d,
        stddevSampStable(log_return_1d) over last_60 as volatility_60d
    from with_returns
    window
        last_20 as (partition by currency order by date rows between 19 preceding and current row),
        last_60 as (partition by currency order by date rows between 59 preceding and current row)

),

final as (

    select
        cast(currency as LowCardinality(String)) as currency,
        date,
        ptax_sell,
        round(log_return_1d, 10) as log_return_1d,
        round(log_return_5d, 10) as log_return_5d,
        round(log_return_20d, 10) as log_return_20d,
        round(volatility_20d, 10) as volatility_20d,
        round(volatility_60d, 10) as volatility_60d
    from with_volatility
    where quote_number > 60

)

select * from final
