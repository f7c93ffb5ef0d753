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
        {{- bank_contract_columns('transactions') }}
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
