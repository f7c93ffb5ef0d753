{#- One row per NCM and validity period: II (TEC) and IPI (TIPI) rates in percent (seed tax_ncm_rates). -#}
with

source as (

    select * from {{ ref('tax_ncm_rates') }}

),

renamed as (

    select
        cast(ncm as LowCardinality(String)) as ncm,
        cast(ncm_formatted as String) as ncm_formatted,
        cast(ii_rate_pct as Decimal(38, 8)) as ii_rate_pct,
        cast(ipi_rate_pct as Decimal(38, 8)) as ipi_rate_pct,
        cast(ipi_not_taxed as Bool) as is_ipi_not_taxed,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(note as String) as note
    from source

)

select * from renamed
