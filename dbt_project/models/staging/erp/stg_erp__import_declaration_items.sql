{#- One row per import declaration item (declaration_id, item_number): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__import_declaration_items') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(item_number as Int32) as item_number,
        cast(po_id as String) as po_id,
        cast(po_line_number as Int32) as po_line_number,
        cast(sku as String) as sku,
        cast(ncm as LowCardinality(String)) as ncm,
        cast(quantity as Decimal(18, 4)) as quantity,
        cast(net_weight_kg as Decimal(18, 4)) as net_weight_kg,
        cast(fob_amount as Decimal(18, 4)) as fob_amount,
        cast(freight_amount as Decimal(18, 4)) as freight_amount,
        cast(insurance_amount as Decimal(18, 4)) as insurance_amount,
        cast(customs_value_brl as Decimal(18, 4)) as customs_value_brl,
        cast(ii_rate_pct as Decimal(9, 4)) as ii_rate_pct,
        cast(ipi_rate_pct as Decimal(9, 4)) as ipi_rate_pct,
        cast(pis_rate_pct as Decimal(9, 4)) as pis_rate_pct,
        cast(cofins_rate_pct as Decimal(9, 4)) as cofins_rate_pct,
        cast(icms_rate_pct as Decimal(9, 4)) as icms_rate_pct,
        cast(ii_brl as Decimal(18, 4)) as ii_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
        cast(icms_brl as Decimal(18, 4)) as icms_brl,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'declaration_id, item_number') }}

)

select * from deduplicated
