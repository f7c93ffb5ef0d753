{#- One row per credit-card bill (fatura) Pluggy lists (`GET /bills`: the closed ones), in
    stg_open_finance__credit_card_bills' columns, then Pluggy's own (`bill_closing_date`, the sums of the bill's
    finance charges and payments as listed). The latest load of a bill wins. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__credit_card_bills') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_bills', {
            'bill_total_amount': "total_amount",
            'bill_total_currency': "total_currency",
            'bill_minimum_amount': "minimum_payment_amount",
        }) }},
        cast(item_id as String) as item_id,
        cast(bill_closing_date as Nullable(Date)) as bill_closing_date,
        cast(allows_installments as Nullable(Bool)) as allows_installments,
        cast(finance_charges_amount as Nullable(Decimal(18, 4))) as finance_charges_amount,
        cast(payments_amount as Nullable(Decimal(18, 4))) as payments_amount
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id, bill_id

)

select * from latest
