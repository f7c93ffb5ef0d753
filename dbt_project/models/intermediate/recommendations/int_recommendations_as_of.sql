{{ config(order_by=['as_of_date']) }}
{#- One row: the day the recommendations are made for. `as_of_date` is the São Paulo date the ERP is known up to
    (int_treasury_data_as_of: its latest change), not today(), so a rebuild on old data recommends what was
    actionable then. `decision_date` is the business day an action can be taken on (the as-of date, or the next
    business day after a weekend or holiday); `next_business_day` is the one after it, when a new PTAX (and a new
    customs rate) is in force and every market-based recommendation expires. -#}

with

data_as_of as (

    select * from {{ ref('int_treasury_data_as_of') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

decision as (

    select
        data_as_of.erp_as_of_date as as_of_date,
        data_as_of.bank_as_of_date as bank_as_of_date,
        if(calendar.is_business_day, calendar.date, calendar.next_business_day) as decision_date
    from data_as_of
    inner join calendar on calendar.date = data_as_of.erp_as_of_date

),

final as (

    select
        decision.as_of_date as as_of_date,
        decision.bank_as_of_date as bank_as_of_date,
        decision.decision_date as decision_date,
        calendar.previous_business_day as previous_business_day,
        calendar.next_business_day as next_business_day
    from decision
    inner join calendar on calendar.date = decision.decision_date

)

select * from final
