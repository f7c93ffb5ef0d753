{#- One row per bank transaction of a Pluggy item, in stg_open_finance__transactions' columns (the mapping is in
    _pluggy__models.yml and ingestion/pluggy/parse.py). Pluggy merges an institution's re-IDs and pending->posted
    twins itself and a month is re-pulled whole, so a transaction ID is the key; a movement whose date moved to
    another month after its first pull can sit in two month objects until the old month is re-pulled: the
    latest load wins. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__transactions') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(transaction_id as String) as transaction_id,
        cast(status as LowCardinality(String)) as status,
        cast(credit_debit_type as LowCardinality(String)) as credit_debit_type,
        cast(transaction_type as LowCardinality(String)) as transaction_type,
        cast(transaction_name as String) as transaction_name,
        cast(amount as Decimal(18, 4)) as amount,
        cast(signed_amount as Decimal(18, 4)) as signed_amount,
        cast(currency as LowCardinality(String)) as currency,
        cast(transaction_datetime as DateTime64(3, 'UTC')) as transaction_datetime,
        cast(booking_date as Date) as booking_date,
        cast(partie_cnpj_cpf as Nullable(String)) as partie_cnpj_cpf,
        cast(partie_person_type as LowCardinality(Nullable(String))) as partie_person_type,
        cast(partie_compe_code as Nullable(String)) as partie_compe_code,
        cast(partie_branch_code as Nullable(String)) as partie_branch_code,
        cast(partie_number as Nullable(String)) as partie_number,
        cast(partie_check_digit as Nullable(String)) as partie_check_digit,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file,
        cast(item_id as String) as item_id,
        cast(provider_id as Nullable(String)) as provider_id,
        cast(pluggy_status as LowCardinality(String)) as pluggy_status,
        cast(operation_type as LowCardinality(Nullable(String))) as operation_type,
        cast(payment_method as LowCardinality(Nullable(String))) as payment_method,
        cast(balance_after as Nullable(Decimal(18, 4))) as balance_after,
        cast(partie_name as Nullable(String)) as partie_name
    from source

),

one_row_per_id as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id, transaction_id

)

select * from one_row_per_id
