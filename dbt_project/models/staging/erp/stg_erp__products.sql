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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'sku') }}

)

select * from deduplicated
