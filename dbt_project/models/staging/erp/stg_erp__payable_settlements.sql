{#- One row per payable settlement (settlement_id): its latest ERP version, soft deletes kept and
    flagged (README.md). -#}
with

source as (

    select * from {{ source('erp', 'erp__payable_settlements') }}

),

renamed as (

    select
        cast(settlement_id as String) as settlement_id,
        cast(payable_id as String) as payable_id,
        cast(fx_contract_id as Nullable(String)) as fx_contract_id,
        cast(settled_date as Date) as settled_date,
        cast(currency as LowCardinality(String)) as currency,
        cast(amount as Decimal(18, 4)) as amount,
        cast(exchange_rate as Nullable(Decimal(38, 15))) as exchange_rate,
        cast(brl_amount as Decimal(18, 4)) as brl_amount,
        {{ erp_version_columns() }}
    from source

),

deduplicated as (

    {{ erp_latest_version('renamed', 'settlement_id') }}

)

select * from deduplicated
