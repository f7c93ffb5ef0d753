{#- One row per receivable instalment (receivable_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__receivables') }}

),

renamed as (

    select
        cast(receivable_id as String) as receivable_id,
        cast(invoice_id as String) as invoice_id,
        cast(customer_id as String) as customer_id,
        cast(installment as Int32) as installment,
        cast(issue_date as Date) as issue_date,
        cast(due_date as Date) as due_date,
        cast(amount_brl as Decimal(18, 4)) as amount_brl,
        cast(status as LowCardinality(String)) as status,
        cast(paid_date as Nullable(Date)) as paid_date,
        cast(paid_amount_brl as Nullable(Decimal(18, 4))) as paid_amount_brl,
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
    limit 1 by receivable_id

)

select * from deduplicated
