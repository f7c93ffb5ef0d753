{#- One row per official declaration (declaration_id): its latest version (a DI rectification, a DUIMP's new
    version), and of a version delivered twice the latest arrival. -#}
with

source as (

    select * from {{ source('customs', 'customs__declarations') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(version as Int32) as declaration_version,
        cast(declaration_type as LowCardinality(String)) as declaration_type,
        cast(source_format as LowCardinality(String)) as source_format,
        cast(importer_cnpj as String) as importer_cnpj,
        cast(registration_date as Date) as registration_date,
        cast(customs_unit as LowCardinality(String)) as customs_unit,
        cast(currency as LowCardinality(String)) as currency,
        cast(exchange_rate as Nullable(Decimal(38, 15))) as exchange_rate,
        cast(freight_brl as Nullable(Decimal(18, 4))) as freight_brl,
        cast(insurance_brl as Nullable(Decimal(18, 4))) as insurance_brl,
        cast(source_file as String) as declaration_file,
        {{ customs_arrival_columns() }}
    from source

)

select *
from renamed
order by declaration_version desc, arrived_at desc, loaded_at desc
limit 1 by declaration_id
