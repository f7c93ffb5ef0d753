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
        {{- bank_contract_columns('transactions') }},
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
