{#- One row per CREDIT account (a card) of a Pluggy item, in stg_open_finance__credit_card_accounts' columns: the
    latest month's view. `name` is the account's name, `product_type` and `credit_card_network` are its
    `creditData.level` and `creditData.brand` as sent; `compe_code` comes from PLUGGY_ITEM_IDS (Pluggy does not send
    it) and `card_last4` is the last four digits of the account's `number` (Pluggy sends a card's last four). -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__accounts') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_accounts', {
            'credit_card_account_id': "account_id",
            'brand_name': "coalesce(connector_name, institution)",
            'product_type': "JSONExtractString(raw_json, 'creditData', 'level')",
            'credit_card_network': "JSONExtractString(raw_json, 'creditData', 'brand')",
            'card_last4': "nullIf(extract(number, '([0-9]{4})$'), '')",
        }) }},
        cast(item_id as String) as item_id,
        cast(currency as LowCardinality(String)) as currency
    from source
    where type = 'CREDIT'

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id

)

select * from latest
