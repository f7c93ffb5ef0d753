{{ config(order_by=['date'], partition_by='toYear(date)') }}

{#- As of each calendar date, the last value of each indicator that was public on that date (see
    int_sgs_observations_dated for when a value counts as public). Monthly indicators carry the month they
    refer to. The range runs from the first public value to the last date daily data exists for. -#}
{%- set indicators = [
    {'series_code': 432, 'column': 'selic_target_pct_pa'},
    {'series_code': 11, 'column': 'selic_daily_pct'},
    {'series_code': 12, 'column': 'cdi_daily_pct'},
    {'series_code': 1, 'column': 'usd_ptax_sell'},
    {'series_code': 433, 'column': 'ipca_month_pct', 'month_column': 'ipca_reference_month'},
    {'series_code': 189, 'column': 'igpm_month_pct', 'month_column': 'igpm_reference_month'},
] -%}
{%- set series_codes = indicators | map(attribute='series_code') | join(', ') -%}

with

observations as (

    select * from {{ ref('int_sgs_observations_dated') }}
    where series_code in ({{ series_codes }})

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

date_range as (

    select
        min(available_from) as first_date,
        maxIf(available_from, frequency != 'monthly') as last_date
    from observations

),

days_by_series as (

    select
        calendar.date as date,
        toInt32(arrayJoin([{{ series_codes }}])) as series_code
    from calendar
    where calendar.date between (select first_date from date_range) and (select last_date from date_range)

),

public_observations as (

    -- Nullable on the right side, so a date with nothing public yet gets NULL from the ASOF LEFT JOIN
    select
        series_code,
        available_from,
        toNullable(reference_date) as reference_date,
        toNullable(value) as value
    from observations

),

as_of as (

    select
        days_by_series.date as date,
        days_by_series.series_code as series_code,
        public_observations.reference_date as reference_date,
        public_observations.value as value
    from days_by_series
    asof left join public_observations
        on public_observations.series_code = days_by_series.series_code
        and days_by_series.date >= public_observations.available_from

),

pivoted as (

    select
        date,
        {%- for indicator in indicators %}
        cast(anyIf(value, series_code = {{ indicator.series_code }}) as Nullable(Decimal(38, 8))) as {{ indicator.column }}
        {%- if indicator.month_column %},
        cast(anyIf(reference_date, series_code = {{ indicator.series_code }}) as Nullable(Date)) as {{ indicator.month_column }}
        {%- endif %}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from as_of
    group by date

)

select * from pivoted
