{#- One row per card and movement read from OFX credit card statements. As for the bank movements
    (stg_bank_statement__transactions), a file covers its card from `statement_start` to `statement_end`; for each
    card and transaction date only the movements of the latest-arriving file covering the date are kept (a bank
    re-sending the open bill's statement, then the closed bill's, replaces rather than adds), then one row per
    FITID. Same columns and types as stg_open_finance__credit_card_transactions: a statement gives no bill id, so
    `bill_id` is null (the movement is on the statement, not known to be on a closed bill), `bill_post_date` is the
    posting date, `identification_number` the card's last four digits (empty when the ACCTID is no card number). -#}
with

source as (

    select * from {{ source('bank_statement', 'bank_statement__card_transactions') }}

),

files as (

    select * from {{ source('bank_statement', 'bank_statement__card_accounts') }}

),

card_numbers as (

    select distinct institution as number_institution, card_account_id as number_card_id, card_last4
    from files
    where card_last4 is not null

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_transactions', {
            'credit_card_account_id': "card_account_id",
            'bill_id': "null",
            'identification_number': "coalesce(card_numbers.card_last4, '')",
            'payment_type': "null",
            'fee_type': "null",
            'other_credits_type': "null",
            'charge_identificator': "null",
            'charge_number': "null",
            'bill_post_date': "posted_date",
            'raw_json': "toJSONString(map(
                'statement_format', statement_format,
                'fitid', coalesce(fitid, ''),
                'ofx_trntype', coalesce(ofx_trntype, ''),
                'line_number', toString(line_number)
            ))",
        }) }},
        cast(transaction_date as Date) as transaction_date,
        cast(statement_format as LowCardinality(String)) as statement_format,
        cast(fitid as Nullable(String)) as fitid,
        cast(ofx_trntype as LowCardinality(Nullable(String))) as ofx_trntype,
        cast(source.source_file as String) as statement_file,
        cast(file_sha256 as String) as file_sha256,
        cast(line_number as Int32) as line_number,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at
    from source
    -- no join_use_nulls: a card whose ACCTID is no card number meets the empty number
    left join card_numbers
        on source.institution = card_numbers.number_institution and source.card_account_id = card_numbers.number_card_id

),

{{ statement_file_truth(account='credit_card_account_id', file_account='card_account_id', day='transaction_date') }}

select * from one_row_per_id
