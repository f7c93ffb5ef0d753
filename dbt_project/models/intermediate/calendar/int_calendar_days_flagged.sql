{#- Business days follow the ANBIMA calendar: national holidays plus Carnival Monday/Tuesday and Corpus Christi,
    the calendar of the banking system, which is when PTAX and the business-day SGS series are published.
    The spine runs `margin_days` beyond both ends so the first and last dates still find their neighbouring
    business days (no run of non-business days is longer than 5: Carnival plus a weekend). -#}
{%- set start_date = var('calendar_start_date') -%}
{%- set end_date = var('calendar_end_date') -%}
{%- set margin_days = 15 -%}

with

holidays as (

    select * from {{ ref('stg_reference__br_holidays') }}

),

spine as (

    select toDate('{{ start_date }}') - {{ margin_days }} + number as date
    from numbers(toUInt64(dateDiff('day', toDate('{{ start_date }}'), toDate('{{ end_date }}')) + 1 + 2 * {{ margin_days }}))

),

b3_coverage as (

    -- the B3 list is complete up to the last year it has any entry for
    select max(toYear(holiday_date)) as last_year
    from holidays
    where is_b3_holiday is not null

),

flagged as (

    select
        date,
        toUInt16(toYear(date)) as year,
        toUInt8(toMonth(date)) as month,
        toUInt8(toDayOfWeek(date)) as weekday,  -- ISO: 1 = Monday ... 7 = Sunday
        cast(weekday >= 6 as Bool) as is_weekend,
        cast(date in (select holiday_date from holidays where is_anbima_holiday) as Bool) as is_anbima_holiday,
        cast(
            if(
                toYear(date) <= (select last_year from b3_coverage),
                date in (select holiday_date from holidays where is_b3_holiday),
                null
            ) as Nullable(Bool)
        ) as is_b3_holiday,
        cast(not is_weekend and not is_anbima_holiday as Bool) as is_business_day
    from spine

),

with_neighbours as (

    select
        *,
        maxIfOrNull(date, is_business_day) over (
            order by date rows between unbounded preceding and 1 preceding
        ) as previous_business_day_or_null,
        minIfOrNull(date, is_business_day) over (
            order by date rows between 1 following and unbounded following
        ) as next_business_day_or_null
    from flagged

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
        cast(assumeNotNull(previous_business_day_or_null) as Date) as previous_business_day,
        cast(assumeNotNull(next_business_day_or_null) as Date) as next_business_day
    from with_neighbours
    where date between toDate('{{ start_date }}') and toDate('{{ end_date }}')

)

select * from final
