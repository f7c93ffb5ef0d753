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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'supplier_id') }}

)

select * from deduplicated
