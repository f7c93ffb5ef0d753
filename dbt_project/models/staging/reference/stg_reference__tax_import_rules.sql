{#- One row per general import rule, tier and validity period (seed tax_import_rules). -#}
with

source as (

    select * from {{ ref('tax_import_rules') }}

),

renamed as (

    select
        cast(rule as LowCardinality(String)) as rule,
        cast(tier_from as Nullable(UInt32)) as tier_from,
        cast(tier_to as Nullable(UInt32)) as tier_to,
        cast(value as Decimal(38, 8)) as value,
        cast(unit as LowCardinality(String)) as unit,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(note as String) as note
    from source

)

select * from renamed
