{#- One row per FX operation: the latest pull's list item + detail (the list has no date filter: every pull sees all). -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__fx_operations') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(operation_id as String) as operation_id,
        cast(brand_name as String) as brand_name,
        cast(company_cnpj as String) as company_cnpj,
        cast(authorized_institution_cnpj as String) as authorized_institution_cnpj,
        cast(authorized_institution_name as String) as authorized_institution_name,
        cast(intermediary_institution_cnpj as Nullable(String)) as intermediary_institution_cnpj,
        cast(intermediary_institution_name as Nullable(String)) as intermediary_institution_name,
        cast(operation_number as Nullable(String)) as operation_number,
        cast(operation_type as LowCardinality(String)) as operation_type,
        cast(operation_datetime as DateTime64(3, 'UTC')) as operation_datetime,
        cast(due_date as Date) as due_date,
        cast(fx_rate as Decimal(38, 15)) as fx_rate,
        cast(fx_rate_currency as LowCardinality(String)) as fx_rate_currency,
        cast(local_currency_value as Decimal(18, 4)) as local_currency_value,
        cast(local_currency as LowCardinality(String)) as local_currency,
        cast(foreign_value as Decimal(18, 4)) as foreign_value,
        cast(foreign_currency as LowCardinality(String)) as foreign_currency,
        cast(outstanding_balance as Nullable(Decimal(18, 4))) as outstanding_balance,
        cast(outstanding_balance_currency as LowCardinality(Nullable(String))) as outstanding_balance_currency,
        cast(vet_amount as Nullable(Decimal(38, 15))) as vet_amount,
        cast(vet_currency as LowCardinality(Nullable(String))) as vet_currency,
        cast(local_currency_advance_percentage as Nullable(Decimal(38, 15))) as local_currency_advance_percentage,
        cast(delivery_foreign_currency as LowCardinality(String)) as delivery_foreign_currency,
        cast(operation_category_code as LowCardinality(String)) as operation_category_code,
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
    limit 1 by institution, operation_id

)

select * from latest
