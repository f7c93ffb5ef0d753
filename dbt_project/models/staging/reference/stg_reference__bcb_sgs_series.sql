with

source as (

    select * from {{ ref('bcb_sgs_series') }}

),

renamed as (

    select
        cast(series_code as Int32) as series_code,
        cast(name as String) as series_name,
        cast(unit as LowCardinality(String)) as unit,
        cast(frequency as LowCardinality(String)) as frequency,
        cast(available_after_days as UInt16) as available_after_days
    from source

)

select * from renamed
