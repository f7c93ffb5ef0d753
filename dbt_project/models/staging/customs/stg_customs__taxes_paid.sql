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
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at
    from source

),

latest as (

    select declaration_id, declaration_version, arrived_at
    from {{ ref('stg_customs__declarations') }}

)

select renamed.*
from renamed
inner join latest
    on renamed.declaration_id = latest.declaration_id
    and renamed.declaration_version = latest.declaration_version
    and renamed.arrived_at = latest.arrived_at
order by renamed.loaded_at desc
limit 1 by renamed.declaration_id, renamed.tax
