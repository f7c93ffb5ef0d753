{#- One row per account and movement read from the statement files. A file covers its account from
    `statement_start` to `statement_end` (raw bank_statement__accounts); for each account and booking date only the
    movements of the latest-arriving file that covers the date are kept, so a bank's re-sent statement of a day
    (corrected, or the same day in the other format) replaces the earlier one instead of adding to it; then one row
    per transaction id (OFX FITID; for CNAB 240, which has no id, a hash of the account, date, side, value, history,
    document, complement and occurrence: ingestion/bank_statements/cnab240.py). Same columns and types as
    stg_open_finance__transactions (every row is posted: `TRANSACAO_EFETIVADA`), plus the statement's own. -#}
with

source as (

    select * from {{ source('bank_statement', 'bank_statement__transactions') }}

),

files as (

    select * from {{ source('bank_statement', 'bank_statement__accounts') }}

),

renamed as (

    select
        {{- bank_contract_columns('transactions', {
            'status': "'TRANSACAO_EFETIVADA'",
            'partie_compe_code': "null",
            'partie_branch_code': "null",
            'partie_number': "null",
            'partie_check_digit': "null",
            'raw_json': "toJSONString(map(
                'statement_format', statement_format,
                'fitid', coalesce(fitid, ''),
                'document_number', coalesce(document_number, ''),
                'ofx_trntype', coalesce(ofx_trntype, ''),
                'cnab_nature', coalesce(cnab_nature, ''),
                'cnab_complement_type', coalesce(cnab_complement_type, ''),
                'cnab_complement', coalesce(cnab_complement, ''),
                'cnab_category', coalesce(cnab_category, ''),
                'cnab_history_code', coalesce(cnab_history_code, ''),
                'line_number', toString(line_number)
            ))",
        }) }},
        cast(statement_format as LowCardinality(String)) as statement_format,
        cast(fitid as Nullable(String)) as fitid,
        cast(document_number as Nullable(String)) as document_number,
        cast(accounting_date as Nullable(Date)) as accounting_date,
        cast(ofx_trntype as LowCardinality(Nullable(String))) as ofx_trntype,
        cast(cnab_category as LowCardinality(Nullable(String))) as cnab_category,
        cast(cnab_history_code as Nullable(String)) as cnab_history_code,
        cast(cnab_complement as Nullable(String)) as cnab_complement,
        cast(source.source_file as String) as statement_file,
        cast(file_sha256 as String) as file_sha256,
        cast(line_number as Int32) as line_number,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at
    from source

),

{{ statement_file_truth(account='account_id', file_account='account_id', day='booking_date') }}

select * from one_row_per_id
