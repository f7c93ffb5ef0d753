{#- One row per item of the latest version of each official declaration (declaration_id, item_number). -#}
with

source as (

    select * from {{ source('customs', 'customs__declaration_items') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(version as Int32) as declaration_version,
        cast(item_number as Int32) as item_number,
        cast(ncm as String) as ncm,
        cast(customs_value_brl as Decimal(18, 4)) as customs_value_brl,
        cast(ii_rate_pct as Decimal(9, 4)) as ii_rate_pct,
        cast(ipi_rate_pct as Decimal(9, 4)) as ipi_rate_pct,
        cast(pis_rate_pct as Decimal(9, 4)) as pis_rate_pct,
        cast(cofins_rate_pct as Decimal(9, 4)) as cofins_rate_pct,
        cast(ii_brl as Decimal(18, 4)) as ii_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
        {{ customs_arrival_columns() }}
    from source

)

{{ customs_latest_declaration_rows('renamed', 'item_number') }}
