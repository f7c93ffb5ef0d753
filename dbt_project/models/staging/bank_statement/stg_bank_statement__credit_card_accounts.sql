{#- One row per card read from OFX credit card statements (`CCSTMTRS`): the latest file's view. Same columns and
    types as stg_open_finance__credit_card_accounts, plus the statement's own (the period and balance of the
    latest statement). OFX names neither the card's product nor its network: they are empty. -#}
with

source as (

    select * from {{ source('bank_statement', 'bank_statement__card_accounts') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_accounts', {
            'credit_card_account_id': "card_account_id",
            'name': "card_account_id",
            'product_type': "''",
            'credit_card_network': "''",
            'raw_json': "toJSONString(map(
                'statement_format', statement_format,
                'card_account_id', card_account_id,
                'compe_code', coalesce(compe_code, ''),
                'card_last4', coalesce(card_last4, ''),
                'currency', currency,
                'line_number', toString(line_number)
            ))",
        }) }},
        cast(statement_format as LowCardinality(String)) as statement_format,
        cast(currency as LowCardinality(String)) as currency,
        cast(statement_start as Nullable(Date)) as statement_start,
        cast(statement_end as Nullable(Date)) as statement_end,
        cast(balance_datetime as Nullable(DateTime64(3, 'UTC'))) as balance_datetime,
        cast(ledger_amount as Nullable(Decimal(18, 4))) as ledger_amount,
        cast(available_amount as Nullable(Decimal(18, 4))) as available_amount,
        cast(source.source_file as String) as statement_file,
        cast(file_sha256 as String) as file_sha256,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at
    from source

),

latest as (

    select *
    from renamed
    order by arrived_at desc, statement_file desc
    limit 1 by institution, credit_card_account_id

)

select * from latest
