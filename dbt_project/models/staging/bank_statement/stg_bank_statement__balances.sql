{#- One row per account and balance instant (`update_datetime`). For each account and balance date only the rows
    of the latest-arriving file that covers the date are kept (a bank's re-sent statement replaces the earlier one),
    then one row per instant. Same columns and types as stg_open_finance__balances, plus the statement's own:
    `available_amount` is the OFX AVAILBAL (else LEDGERBAL) or the CNAB 240 batch trailer's final balance,
    `blocked_amount` the CNAB 240 blocked balance (0 when the file gives none). -#}
with

source as (

    select * from {{ source('bank_statement', 'bank_statement__balances') }}

),

renamed as (

    select
        {{- bank_contract_columns('balances', {
            'available_amount': "coalesce(available_amount, ledger_amount)",
            'available_currency': "currency",
            'blocked_amount': "coalesce(blocked_amount, 0)",
            'blocked_currency': "currency",
            'automatically_invested_amount': "0",
            'automatically_invested_currency': "currency",
            'raw_json': "toJSONString(map(
                'statement_format', statement_format,
                'ledger_amount', toString(source.ledger_amount),
                'available_amount', toString(source.available_amount),
                'blocked_amount', toString(source.blocked_amount),
                'line_number', toString(line_number)
            ))",
        }) }},
        cast(statement_format as LowCardinality(String)) as statement_format,
        cast(balance_date as Date) as balance_date,
        cast(ledger_amount as Decimal(18, 4)) as ledger_amount,
        cast(source.source_file as String) as statement_file,
        cast(file_sha256 as String) as file_sha256,
        cast(line_number as Int32) as line_number,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at
    from source

),

latest_file_of_the_date as (

    select *
    from renamed
    order by arrived_at desc, statement_file desc
    limit 1 by institution, account_id, balance_date

),

kept as (

    select renamed.*
    from renamed
    inner join latest_file_of_the_date as latest
        on
            renamed.institution = latest.institution
            and renamed.account_id = latest.account_id
            and renamed.balance_date = latest.balance_date
            and renamed.file_sha256 = latest.file_sha256

),

one_row_per_instant as (

    select *
    from kept
    order by arrived_at desc, line_number desc
    limit 1 by institution, account_id, update_datetime

)

select * from one_row_per_instant
