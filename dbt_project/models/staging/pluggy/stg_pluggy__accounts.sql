{#- One row per BANK account of a Pluggy item, in stg_open_finance__accounts' columns: the latest month's view
    (every month's pull lists the accounts again). Cards (type CREDIT) are not deposit accounts: their
    transactions are in stg_pluggy__credit_card_transactions. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__accounts') }}

),

renamed as (

    select
        {{- bank_contract_columns('accounts', {
            'brand_name': "coalesce(connector_name, institution)",
            'company_cnpj': "coalesce(owner_tax_number, '')",
            'account_type': "multiIf(
                subtype = 'CHECKING_ACCOUNT', 'CONTA_DEPOSITO_A_VISTA',
                subtype = 'SAVINGS_ACCOUNT', 'CONTA_POUPANCA',
                subtype
            )",
            'compe_code': "coalesce(compe_code, '')",
            'number': "account_number",
        }) }},
        cast(item_id as String) as item_id,
        cast(subtype as LowCardinality(String)) as pluggy_subtype,
        cast(currency as LowCardinality(String)) as currency
    from source
    where type = 'BANK'

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id

)

select * from latest
