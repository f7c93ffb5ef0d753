{#- One row per bank transaction, under rule A (ingestion/open_finance/dedupe.py): transaction IDs change
    (pending entries post under a new ID or vanish, D+1 types settle their ID a day later), so for each
    institution and booking date only the rows of the LATEST pull whose window covered that date are kept
    (raw.open_finance__pulls says which pull covered which dates), then one row per transaction ID. A pending
    `TXPEND0007` seen yesterday and its posted twin `TX0007` seen today leave only `TX0007`. -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__transactions') }}

),

pulls as (

    select * from {{ source('open_finance', 'open_finance__pulls') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(transaction_id as String) as transaction_id,
        cast(status as LowCardinality(String)) as status,
        cast(credit_debit_type as LowCardinality(String)) as credit_debit_type,
        cast(transaction_type as LowCardinality(String)) as transaction_type,
        cast(transaction_name as String) as transaction_name,
        cast(amount as Decimal(18, 4)) as amount,
        cast(signed_amount as Decimal(18, 4)) as signed_amount,
        cast(currency as LowCardinality(String)) as currency,
        cast(transaction_datetime as DateTime64(3, 'UTC')) as transaction_datetime,
        cast(booking_date as Date) as booking_date,
        cast(partie_cnpj_cpf as Nullable(String)) as partie_cnpj_cpf,
        cast(partie_person_type as LowCardinality(Nullable(String))) as partie_person_type,
        cast(partie_compe_code as Nullable(String)) as partie_compe_code,
        cast(partie_branch_code as Nullable(String)) as partie_branch_code,
        cast(partie_number as Nullable(String)) as partie_number,
        cast(partie_check_digit as Nullable(String)) as partie_check_digit,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

booking_dates as (

    select distinct institution, booking_date
    from renamed

),

latest_covering_pull as (

    -- the latest pull of the institution whose window covered the booking date
    select
        booking_dates.institution as institution,
        booking_dates.booking_date as booking_date,
        max(pulls.pull_date) as pull_date
    from booking_dates
    inner join pulls on booking_dates.institution = pulls.institution
    where booking_dates.booking_date between pulls.window_start and pulls.window_end
    group by booking_dates.institution, booking_dates.booking_date

),

truth_of_the_date as (

    select *
    from renamed
    where
        (institution, booking_date, pull_date) in (
            select institution, booking_date, pull_date from latest_covering_pull
        )
        -- a row dated outside every window of its institution (it should not happen) is kept, latest pull first
        or (institution, booking_date) not in (select institution, booking_date from latest_covering_pull)

),

one_row_per_id as (

    select *
    from truth_of_the_date
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id, transaction_id

)

select * from one_row_per_id
