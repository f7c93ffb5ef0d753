{#- One row per inventory movement (movement_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__inventory_movements') }}

),

renamed as (

    select
        cast(movement_id as String) as movement_id,
        cast(sku as String) as sku,
        cast(movement_date as Date) as movement_date,
        cast(movement_type as LowCardinality(String)) as movement_type,
        cast(quantity as Decimal(18, 4)) as quantity,
        cast(unit_cost_brl as Decimal(18, 4)) as unit_cost_brl,
        cast(reference_type as LowCardinality(String)) as reference_type,
        cast(reference_id as Nullable(String)) as reference_id,
        cast(warehouse as LowCardinality(String)) as warehouse,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'movement_id') }}

)

select * from deduplicated
