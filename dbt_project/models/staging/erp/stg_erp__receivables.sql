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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'receivable_id') }}

)

select * from deduplicated
