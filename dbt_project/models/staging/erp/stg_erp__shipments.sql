{#- One row per shipment (shipment_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__shipments') }}

),

renamed as (

    select
        cast(shipment_id as String) as shipment_id,
        cast(po_id as String) as po_id,
        cast(transport_mode as LowCardinality(String)) as transport_mode,
        cast(origin_country as LowCardinality(String)) as origin_country,
        cast(customs_unit as LowCardinality(String)) as customs_unit,
        cast(bill_of_lading as String) as bill_of_lading,
        cast(etd as Date) as etd,
        cast(eta as Date) as eta,
        cast(actual_arrival as Nullable(Date)) as actual_arrival,
        cast(gross_weight_kg as Decimal(18, 4)) as gross_weight_kg,
        cast(currency as LowCardinality(String)) as currency,
        cast(freight_amount as Decimal(18, 4)) as freight_amount,
        cast(insurance_amount as Decimal(18, 4)) as insurance_amount,
        cast(status as LowCardinality(String)) as status,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'shipment_id') }}

)

select * from deduplicated
