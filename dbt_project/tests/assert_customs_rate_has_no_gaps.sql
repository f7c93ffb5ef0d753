{{ config(severity='warn') }}
-- Warns with every row from 2019-04-10 on whose customs rate is missing although the currency was already
-- quoted before: the PTAX of the previous business day is missing from the warehouse (a load gap).
with

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

first_quotes as (

    select currency, min(date) as first_date
    from rates
    group by currency

)

select rates.currency, rates.date, rates.customs_rate_date
from rates
inner join first_quotes on first_quotes.currency = rates.currency
where
    rates.customs_rate is null
    and rates.customs_rate_date is not null
    and rates.date > first_quotes.first_date
