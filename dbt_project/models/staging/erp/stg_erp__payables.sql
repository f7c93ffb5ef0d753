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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'payable_id') }}

)

select * from deduplicated
