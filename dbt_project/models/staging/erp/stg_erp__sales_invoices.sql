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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'invoice_id') }}

)

select * from deduplicated
