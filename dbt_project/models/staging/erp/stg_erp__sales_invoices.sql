{#- One row per sales invoice (invoice_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__sales_invoices') }}

),

renamed as (

    select
        cast(invoice_id as String) as invoice_id,
        cast(customer_id as String) as customer_id,
        cast(issue_date as Date) as issue_date,
        cast(cfop as LowCardinality(String)) as cfop,
        cast(sku as String) as sku,
        cast(quantity as Decimal(18, 4)) as quantity,
        cast(unit_price_brl as Decimal(18, 4)) as unit_price_brl,
        cast(gross_amount_brl as Decimal(18, 4)) as gross_amount_brl,
        cast(icms_brl as Decimal(18, 4)) as icms_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
        cast(net_amount_brl as Decimal(18, 4)) as net_amount_brl,
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
    limit 1 by invoice_id

)

select * from deduplicated
