{#- One row per import declaration (DI/DUIMP) (declaration_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__import_declarations') }}

),

renamed as (

    select
        cast(declaration_id as String) as declaration_id,
        cast(declaration_type as LowCardinality(String)) as declaration_type,
        cast(shipment_id as String) as shipment_id,
        cast(registration_date as Date) as registration_date,
        cast(clearance_date as Nullable(Date)) as clearance_date,
        cast(customs_unit as LowCardinality(String)) as customs_unit,
        cast(destination_state as LowCardinality(String)) as destination_state,
        cast(currency as LowCardinality(String)) as currency,
        cast(exchange_rate as Decimal(38, 15)) as exchange_rate,
        cast(fob_amount as Decimal(18, 4)) as fob_amount,
        cast(freight_amount as Decimal(18, 4)) as freight_amount,
        cast(insurance_amount as Decimal(18, 4)) as insurance_amount,
        cast(customs_value_brl as Decimal(18, 4)) as customs_value_brl,
        cast(ii_brl as Decimal(18, 4)) as ii_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
        cast(icms_brl as Decimal(18, 4)) as icms_brl,
        cast(siscomex_fee_brl as Decimal(18, 4)) as siscomex_fee_brl,
        cast(afrmm_brl as Decimal(18, 4)) as afrmm_brl,
        cast(customs_expenses_brl as Decimal(18, 4)) as customs_expenses_brl,
        cast(status as LowCardinality(String)) as status,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'declaration_id') }}

)

select * from deduplicated
