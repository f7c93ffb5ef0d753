{#- One row per tax debited for the latest version of each official declaration (declaration_id, tax). -#}
with

source as (

    select * from {{ source('customs', 'customs__taxes_paid') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(version as Int32) as declaration_version,
        cast(tax as LowCardinality(String)) as tax,
        cast(revenue_code as LowCardinality(String)) as revenue_code,
        cast(amount_brl as Decimal(18, 4)) as amount_brl,
        cast(payment_date as Nullable(Date)) as payment_date,
        {{ customs_arrival_columns() }}
    from source

)

{{ customs_latest_declaration_rows('renamed', 'tax') }}
