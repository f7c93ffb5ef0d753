{#- One row per BANK account of a Pluggy item, in stg_open_finance__accounts' columns: the latest month's view
    (every month's pull lists the accounts again). Cards (type CREDIT) are not deposit accounts: their
    transactions are in stg_pluggy__credit_card_transactions. -#}
with

source as (

    select * from {{ optional_source('pluggy', 'pluggy__accounts') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(coalesce(connector_name, institution) as String) as brand_name,
        cast(coalesce(owner_tax_number, '') as String) as company_cnpj,
        cast(
            multiIf(
                subtype = 'CHECKING_ACCOUNT', 'CONTA_DEPOSITO_A_VISTA',
                subtype = 'SAVINGS_ACCOUNT', 'CONTA_POUPANCA',
                subtype
            ) as LowCardinality(String)
        ) as account_type,
        cast(coalesce(compe_code, '') as String) as compe_code,
        cast(branch_code as Nullable(String)) as branch_code,
        cast(account_number as String) as number,
        cast(check_digit as String) as check_digit,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file,
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
