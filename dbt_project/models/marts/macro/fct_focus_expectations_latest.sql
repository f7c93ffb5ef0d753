{{ config(order_by=['entity_set', 'indicator', 'reference_period']) }}

with

expectations as (

    select * from {{ ref('stg_bcb__focus_expectations') }}

),

latest as (

    select *
    from expectations
    order by computed_on desc
    limit 1 by
        entity_set, indicator, indicator_detail, reference_period, calc_basis, calc_type, smoothed

),

final as (

    select
        cast(entity_set as LowCardinality(String)) as entity_set,
        cast(indicator as LowCardinality(String)) as indicator,
        indicator_detail,
        reference_period,
        calc_basis,
        calc_type,
        smoothed,
        computed_on,
        cast(mean as Nullable(Decimal(38, 8))) as mean,
        cast(median as Nullable(Decimal(38, 8))) as median,
        cast(std_dev as Nullable(Decimal(38, 8))) as std_dev,
        cast(minimum as Nullable(Decimal(38, 8))) as minimum,
        cast(maximum as Nullable(Decimal(38, 8))) as maximum,
        respondents
    from latest

)

select * from final
