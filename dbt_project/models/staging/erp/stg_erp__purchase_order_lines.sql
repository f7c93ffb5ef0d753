{#- One row per purchase order line (po_id, line_number): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__purchase_order_lines') }}

),

renamed as (

    select
        cast(po_id as String) as po_id,
        cast(line_number as Int32) as line_number,
        cast(sku as String) as sku,
        cast(quantity as Decimal(18, 4)) as quantity,
        cast(unit_price as Decimal(18, 4)) as unit_price,
        cast(line_amount as Decimal(18, 4)) as line_amount,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'po_id, line_number') }}

)

select * from deduplicated
