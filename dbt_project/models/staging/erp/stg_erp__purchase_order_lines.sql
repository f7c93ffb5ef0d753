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
        cast(updated_at as DateTime64(3, 'UTC')) as updated_at,
        cast(deleted_at as Nullable(DateTime64(3, 'UTC'))) as deleted_at,
        cast(deleted_at is not null as Bool) as is_deleted,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

deduplicated as (

    -- the latest version of each row: newest ERP updated_at, then the latest load (README.md)
    select *
    from renamed
    order by updated_at desc, loaded_at desc, source_file desc
    limit 1 by po_id, line_number

)

select * from deduplicated
