{#- One row per NCM prefix and validity period with PIS/COFINS-Importação rates other than the general ones
    (seed tax_pis_cofins_ncm_exceptions). -#}
with

source as (

    select * from {{ ref('tax_pis_cofins_ncm_exceptions') }}

),

renamed as (

    select
        cast(ncm_prefix as String) as ncm_prefix,
        cast(pis_rate_pct as Decimal(38, 8)) as pis_rate_pct,
        cast(cofins_rate_pct as Decimal(38, 8)) as cofins_rate_pct,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(note as String) as note
    from source

)

select * from renamed
