with

source as (

    select * from {{ source('bcb', 'bcb__sgs_observations') }}

),

renamed as (

    select
        cast(series_code as Int32) as series_code,
        cast(reference_date as Date) as reference_date,
        cast(value as Decimal(38, 15)) as value,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

deduplicated as (

    -- a re-load of the same day replaces it; if two loads ever overlap, the latest wins
    select *
    from renamed
    order by loaded_at desc, source_file desc
    limit 1 by series_code, reference_date

)

select * from deduplicated
