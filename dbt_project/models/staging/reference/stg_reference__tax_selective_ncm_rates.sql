{#- One row per NCM prefix and validity period subject to the Imposto Seletivo (seed tax_selective_ncm_rates). -#}
with

source as (

    select * from {{ ref('tax_selective_ncm_rates') }}

),

renamed as (

    select
        cast(ncm_prefix as String) as ncm_prefix,
        cast(is_rate_pct as Nullable(Decimal(38, 8))) as is_rate_pct,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(is_provisional as Bool) as is_provisional,
        cast(provisional_reason as String) as provisional_reason,
        cast(note as String) as note
    from source

)

select * from renamed
