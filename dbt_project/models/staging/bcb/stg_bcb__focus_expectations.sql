with

source as (

    select * from {{ source('bcb', 'bcb__focus_expectations') }}

),

renamed as (

    select
        cast(entity_set as LowCardinality(String)) as entity_set,
        cast(indicator as LowCardinality(String)) as indicator,
        cast(indicator_detail as Nullable(String)) as indicator_detail,
        cast(computed_on as Date) as computed_on,
        cast(reference_period as String) as reference_period,
        cast(calc_basis as Nullable(Int32)) as calc_basis,
        cast(calc_type as Nullable(String)) as calc_type,
        cast(smoothed as Nullable(String)) as smoothed,
        cast(mean as Nullable(Decimal(38, 15))) as mean,
        cast(median as Nullable(Decimal(38, 15))) as median,
        cast(std_dev as Nullable(Decimal(38, 15))) as std_dev,
        cast(minimum as Nullable(Decimal(38, 15))) as minimum,
        cast(maximum as Nullable(Decimal(38, 15))) as maximum,
        cast(respondents as Nullable(Int32)) as respondents,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

deduplicated as (

    -- several rows share one `computed_on`: the key includes the basis, type and smoothing (README section 6)
    select *
    from renamed
    order by loaded_at desc, source_file desc
    limit 1 by
        entity_set, indicator, indicator_detail, computed_on, reference_period, calc_basis, calc_type, smoothed

)

select * from deduplicated
