{#- One row per state and validity period: the internal ICMS rate in percent (seed tax_icms_rates). -#}
with

source as (

    select * from {{ ref('tax_icms_rates') }}

),

renamed as (

    select
        cast(state as LowCardinality(String)) as state,
        cast(icms_rate_pct as Decimal(38, 8)) as icms_rate_pct,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(note as String) as note
    from source

)

select * from renamed
