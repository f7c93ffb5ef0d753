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

coverage as (

    -- each file's period per account (a file without one covers the dates of its own movements)
    select
        files.institution as institution,
        files.account_id as account_id,
        files.file_sha256 as file_sha256,
        cast(files._arrived_at as DateTime64(3, 'UTC')) as arrived_at,
        coalesce(cast(files.statement_start as Nullable(Date)), moved.first_day) as covers_from,
        coalesce(cast(files.statement_end as Nullable(Date)), moved.last_day) as covers_to
    from files
    left join (
        select account_id, file_sha256, min(booking_date) as first_day, max(booking_date) as last_day
        from renamed
        group by account_id, file_sha256
    ) as moved
        on files.account_id = moved.account_id and files.file_sha256 = moved.file_sha256

),

booking_dates as (

    select distinct institution, account_id, booking_date
    from renamed

),

latest_covering_file as (

    select
        booking_dates.institution as institution,
        booking_dates.account_id as account_id,
        booking_dates.booking_date as booking_date,
        argMax(coverage.file_sha256, coverage.arrived_at) as file_sha256
    from booking_dates
    inner join coverage
        on booking_dates.institution = coverage.institution and booking_dates.account_id = coverage.account_id
    where booking_dates.booking_date between coverage.covers_from and coverage.covers_to
    group by booking_dates.institution, booking_dates.account_id, booking_dates.booking_date

),

truth_of_the_date as (

    select *
    from renamed
    where
        (institution, account_id, booking_date, file_sha256) in (
            select institution, account_id, booking_date, file_sha256 from latest_covering_file
        )
        -- a movement outside every file's period (it should not happen) is kept, latest arrival first
        or (institution, account_id, booking_date) not in (
            select institution, account_id, booking_date from latest_covering_file
        )

),

one_row_per_id as (

    select *
    from truth_of_the_date
    order by arrived_at desc, line_number desc
    limit 1 by institution, account_id, transaction_id

)

select * from one_row_per_id
