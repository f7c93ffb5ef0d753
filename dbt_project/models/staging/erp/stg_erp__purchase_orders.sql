{#- One row per purchase order (po_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__purchase_orders') }}

),

renamed as (

    select
        cast(po_id as String) as po_id,
        cast(supplier_id as String) as supplier_id,
        cast(order_date as Date) as order_date,
        cast(currency as LowCardinality(String)) as currency,
        cast(incoterm as LowCardinality(String)) as incoterm,
        cast(transport_mode as LowCardinality(String)) as transport_mode,
        cast(status as LowCardinality(String)) as status,
        cast(total_amount as Decimal(18, 4)) as total_amount,
        cast(expected_arrival_date as Nullable(Date)) as expected_arrival_date,
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
    limit 1 by po_id

)

select * from deduplicated
