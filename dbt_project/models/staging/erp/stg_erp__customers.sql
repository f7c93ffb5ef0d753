{#- One row per customer (customer_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__customers') }}

),

renamed as (

    select
        cast(customer_id as String) as customer_id,
        cast(name as String) as customer_name,
        cast(cnpj as String) as cnpj,
        cast(state as LowCardinality(String)) as state,
        cast(city as String) as city,
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
    limit 1 by customer_id

)

select * from deduplicated
