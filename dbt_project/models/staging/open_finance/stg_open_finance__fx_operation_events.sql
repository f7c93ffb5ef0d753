{#- One row per FX operation event: the latest pull's version of each event. -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__fx_operation_events') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(operation_id as String) as operation_id,
        cast(event_sequence_number as String) as event_sequence_number,
        cast(event_type as LowCardinality(String)) as event_type,
        cast(event_datetime as DateTime64(3, 'UTC')) as event_datetime,
        cast(due_date as Nullable(Date)) as due_date,
        cast(fx_rate as Nullable(Decimal(38, 15))) as fx_rate,
        cast(fx_rate_currency as LowCardinality(Nullable(String))) as fx_rate_currency,
        cast(local_currency_value as Nullable(Decimal(18, 4))) as local_currency_value,
        cast(local_currency as LowCardinality(Nullable(String))) as local_currency,
        cast(foreign_value as Nullable(Decimal(18, 4))) as foreign_value,
        cast(foreign_currency as LowCardinality(Nullable(String))) as foreign_currency,
        cast(outstanding_balance as Nullable(Decimal(18, 4))) as outstanding_balance,
        cast(outstanding_balance_currency as LowCardinality(Nullable(String))) as outstanding_balance_currency,
        cast(vet_amount as Nullable(Decimal(38, 15))) as vet_amount,
        cast(vet_currency as LowCardinality(Nullable(String))) as vet_currency,
        cast(local_currency_advance_percentage as Nullable(Decimal(38, 15))) as local_currency_advance_percentage,
        cast(delivery_foreign_currency as LowCardinality(Nullable(String))) as delivery_foreign_currency,
        cast(operation_category_code as LowCardinality(Nullable(String))) as operation_category_code,
        cast(foreign_partie_relationship_code as Nullable(String)) as foreign_partie_relationship_code,
        cast(foreign_partie_name as Nullable(String)) as foreign_partie_name,
        cast(foreign_partie_country_code as Nullable(String)) as foreign_partie_country_code,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, operation_id, event_sequence_number

)

select * from latest
