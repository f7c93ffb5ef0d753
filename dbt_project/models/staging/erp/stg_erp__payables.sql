{#- One row per payable (payable_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__payables') }}

),

renamed as (

    select
        cast(payable_id as String) as payable_id,
        cast(supplier_id as String) as supplier_id,
        cast(po_id as String) as po_id,
        cast(document_type as LowCardinality(String)) as document_type,
        cast(invoice_number as String) as invoice_number,
        cast(invoice_date as Date) as invoice_date,
        cast(due_date as Date) as due_date,
        cast(currency as LowCardinality(String)) as currency,
        cast(amount as Decimal(18, 4)) as amount,
        cast(status as LowCardinality(String)) as status,
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
    limit 1 by payable_id

)

select * from deduplicated
