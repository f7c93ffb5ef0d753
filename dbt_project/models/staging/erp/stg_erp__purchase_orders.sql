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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'po_id') }}

)

select * from deduplicated
