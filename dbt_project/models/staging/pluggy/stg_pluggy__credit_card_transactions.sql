{#- One row per credit-card transaction of a Pluggy item (card accounts are Pluggy accounts of type CREDIT), in
    stg_open_finance__credit_card_transactions' columns. Pluggy sends `billPostDate` only once the transaction is
    on a bill: `bill_post_date` is then the São Paulo transaction date. The latest load of an ID wins. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__credit_card_transactions') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_transactions', {
            'bill_post_date': "coalesce(bill_post_date, transaction_date)",
        }) }},
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
