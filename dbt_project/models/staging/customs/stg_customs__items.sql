{#- One row per item of the latest version of each official declaration (declaration_id, item_number). -#}
with

source as (

    select * from {{ source('customs', 'customs__declaration_items') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(version as Int32) as declaration_version,
        cast(item_number as Int32) as item_number,
        cast(ncm as String) as ncm,
        cast(customs_value_brl as Decimal(18, 4)) as customs_value_brl,
        cast(ii_rate_pct as Decimal(9, 4)) as ii_rate_pct,
        cast(ipi_rate_pct as Decimal(9, 4)) as ipi_rate_pct,
        cast(pis_rate_pct as Decimal(9, 4)) as pis_rate_pct,
        cast(cofins_rate_pct as Decimal(9, 4)) as cofins_rate_pct,
        cast(ii_brl as Decimal(18, 4)) as ii_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
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
limit 1 by renamed.declaration_id, renamed.item_number
