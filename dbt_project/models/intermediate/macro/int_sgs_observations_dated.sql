{#- When did each SGS value become public? A value is known `available_after_days` after the end of its
    reference period (the day for daily series, the month for monthly ones: IPCA for January, dated
    2024-01-01, is not known on 2024-01-15). As-of marts join on `available_from`, so no date sees a value
    that was published later. The lags in the bcb_sgs_series seed are conservative assumptions. -#}
with

observations as (

    select * from {{ ref('stg_bcb__sgs_observations') }}

),

series as (

    select * from {{ ref('stg_reference__bcb_sgs_series') }}

),

dated as (

    select
        observations.series_code as series_code,
        observations.reference_date as reference_date,
        observations.value as value,
        series.frequency as frequency,
        cast(
            if(series.frequency = 'monthly', toLastDayOfMonth(observations.reference_date), observations.reference_date)
            + series.available_after_days
            as Date
        ) as available_from
    from observations
    inner join series on series.series_code = observations.series_code

)

select * from dated
