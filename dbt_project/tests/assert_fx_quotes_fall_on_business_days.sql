{{ config(severity='warn') }}
-- Warns with every closing rate dated on a weekend or an ANBIMA holiday. fct_fx_rates_daily keeps business days
-- only, so such a row would silently drop out of the mart: either the calendar misses a change (a new national
-- holiday) or the source mis-dated a bulletin.
with

rates as (

    select * from {{ ref('int_fx_closing_rates_unioned') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

)

select rates.currency, rates.quote_date, rates.source
from rates
where rates.quote_date not in (select date from calendar where is_business_day)
