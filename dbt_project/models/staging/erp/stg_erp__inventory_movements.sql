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
    limit 1 by movement_id

)

select * from deduplicated
