{#- One row per reform-era rule and validity period (seed tax_regime_rules, seeds/README.md). -#}
with

source as (

    select * from {{ ref('tax_regime_rules') }}

),

renamed as (

    select
        cast(rule as LowCardinality(String)) as rule,
        cast(value as Decimal(38, 8)) as value,
        cast(unit as LowCardinality(String)) as unit,
        cast(taxable_event as LowCardinality(String)) as taxable_event,
        cast(valid_from as Date) as valid_from,
        cast(valid_to as Nullable(Date)) as valid_to,
        cast(legal_source as String) as legal_source,
        cast(is_provisional as Bool) as is_provisional,
        cast(provisional_reason as String) as provisional_reason,
        cast(note as String) as note
    from source

)

select * from renamed
