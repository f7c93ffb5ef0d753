{#- One row per supplier (supplier_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__suppliers') }}

),

renamed as (

    select
        cast(supplier_id as String) as supplier_id,
        cast(name as String) as supplier_name,
        cast(country as LowCardinality(String)) as country,
        cast(tax_id as String) as tax_id,
        cast(tax_id_type as LowCardinality(String)) as tax_id_type,
        cast(currency as LowCardinality(String)) as currency,
        cast(payment_terms_days as Int32) as payment_terms_days,
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
    limit 1 by supplier_id

)

select * from deduplicated
