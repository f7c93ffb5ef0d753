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
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'customer_id') }}

)

select * from deduplicated
