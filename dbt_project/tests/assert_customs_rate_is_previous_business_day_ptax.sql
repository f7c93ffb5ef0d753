-- The customs (Siscomex) rate on a date is the PTAX selling rate of the previous business day, from 2019-04-10.
-- Fails with every row where the mart disagrees with the calendar or with its own PTAX of that day.
with

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

checked as (

    select
        rates.currency as currency,
        rates.date as date,
        rates.customs_rate_date as customs_rate_date,
        rates.customs_rate as customs_rate,
        calendar.previous_business_day as expected_customs_rate_date,
        previous_day.ptax_sell as expected_customs_rate
    from rates
    inner join calendar on calendar.date = rates.date
    left join rates as previous_day
        on previous_day.currency = rates.currency
        and previous_day.date = calendar.previous_business_day
    where rates.customs_rate is not null

)

select *
from checked
where
    date < toDate('{{ var("customs_rate_daily_since") }}')
    or customs_rate_date != expected_customs_rate_date
    or customs_rate != expected_customs_rate
