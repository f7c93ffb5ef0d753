{{ config(order_by=['date']) }}

with

calendar_days as (

    select * from {{ ref('int_calendar_days_flagged') }}

),

final as (

    select
        date,
        year,
        month,
        weekday,
        is_weekend,
        is_anbima_holiday,
        is_b3_holiday,
        is_business_day,
        previous_business_day,
        next_business_day
    from calendar_days

)

select * from final
