-- Recomputes previous_business_day / next_business_day another way (ASOF joins on the business days instead of
-- window frames) and fails with every date where the two disagree or the order is wrong. The first and last few
-- dates have neighbours outside the table and are only checked for order.
with

calendar as (

    -- ASOF JOIN needs one equality column: `join_key` is the same on every row
    select *, 0 as join_key from {{ ref('dim_calendar') }}

),

business_days as (

    select date as business_day, join_key from calendar where is_business_day

),

with_previous as (

    select calendar.*, business_days.business_day as recomputed_previous
    from calendar
    asof left join business_days
        on business_days.join_key = calendar.join_key and calendar.date > business_days.business_day

),

with_both as (

    select with_previous.*, business_days.business_day as recomputed_next
    from with_previous
    asof left join business_days
        on business_days.join_key = with_previous.join_key and with_previous.date < business_days.business_day

),

bounds as (

    select min(business_day) as first_business_day, max(business_day) as last_business_day from business_days

)

select date, previous_business_day, recomputed_previous, next_business_day, recomputed_next
from with_both
where
    not (previous_business_day < date and date < next_business_day)
    or (date > (select first_business_day from bounds) and previous_business_day != recomputed_previous)
    or (date < (select last_business_day from bounds) and next_business_day != recomputed_next)
