with

source as (

    select * from {{ ref('br_holidays_anbima_b3') }}

),

renamed as (

    select
        cast(date as Date) as holiday_date,
        cast(anbima_holiday = 1 as Bool) as is_anbima_holiday,
        -- empty in the file after the last year B3 closures are listed for (2026)
        cast(if(b3_holiday is null, null, b3_holiday = 1) as Nullable(Bool)) as is_b3_holiday
    from source

)

select * from renamed
