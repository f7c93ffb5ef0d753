{#- One row per product (sku): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__products') }}

),

renamed as (

    select
        cast(sku as String) as sku,
        cast(description as String) as product_description,
        cast(ncm as LowCardinality(String)) as ncm,
        cast(unit as LowCardinality(String)) as unit,
        cast(net_weight_kg as Decimal(18, 4)) as net_weight_kg,
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
    limit 1 by sku

)

select * from deduplicated
