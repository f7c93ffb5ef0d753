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
        cast(updated_at as DateTime64(3, 'UTC')) as updated_at,
        cast(deleted_at as Nullable(DateTime64(3, 'UTC'))) as deleted_at,
        cast(deleted_at is not null as Bool) as is_deleted,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

deduplicated as (

    -- the latest version of each row: newest ERP updated_at, then the latest load (README.md)
    select *
    from renamed
    order by updated_at desc, loaded_at desc, source_file desc
    limit 1 by settlement_id

)

select * from deduplicated
