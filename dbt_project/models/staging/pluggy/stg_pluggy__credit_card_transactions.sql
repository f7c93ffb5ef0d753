{#- One row per credit-card transaction of a Pluggy item (card accounts are Pluggy accounts of type CREDIT), in
    stg_open_finance__credit_card_transactions' columns. Pluggy sends `billPostDate` only once the transaction is
    on a bill: `bill_post_date` is then the São Paulo transaction date. The latest load of an ID wins. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__credit_card_transactions') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(credit_card_account_id as String) as credit_card_account_id,
        cast(transaction_id as String) as transaction_id,
        cast(bill_id as Nullable(String)) as bill_id,
        cast(identification_number as String) as identification_number,
        cast(transaction_name as String) as transaction_name,
        cast(credit_debit_type as LowCardinality(String)) as credit_debit_type,
        cast(transaction_type as LowCardinality(String)) as transaction_type,
        cast(payment_type as LowCardinality(Nullable(String))) as payment_type,
        cast(fee_type as LowCardinality(Nullable(String))) as fee_type,
        cast(other_credits_type as LowCardinality(Nullable(String))) as other_credits_type,
        cast(charge_identificator as Nullable(Int32)) as charge_identificator,
        cast(charge_number as Nullable(Int32)) as charge_number,
        cast(amount as Decimal(18, 4)) as amount,
        cast(currency as LowCardinality(String)) as currency,
        cast(brazilian_amount as Decimal(18, 4)) as brazilian_amount,
        cast(signed_brazilian_amount as Decimal(18, 4)) as signed_brazilian_amount,
        cast(brazilian_currency as LowCardinality(String)) as brazilian_currency,
        cast(transaction_datetime as DateTime64(3, 'UTC')) as transaction_datetime,
        cast(coalesce(bill_post_date, transaction_date) as Date) as bill_post_date,
        cast(payee_mcc as Nullable(Int32)) as payee_mcc,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file,
        cast(transaction_date as Date) as transaction_date,
        cast(item_id as String) as item_id,
        cast(pluggy_status as LowCardinality(String)) as pluggy_status
    from source

),

one_row_per_id as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id, transaction_id

)

select * from one_row_per_id
