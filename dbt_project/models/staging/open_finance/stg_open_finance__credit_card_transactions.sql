{#- One row per credit-card transaction. Card IDs settle when the bill closes, so:
    billed rows (bill_id set) come from the latest pull that read their bill (each pull re-reads whole bills);
    open rows (bill_id null) follow rule A on the São Paulo transaction date (the latest pull whose window covered
    it), and an open row is dropped once a billed row of the same card, date, BRL amount and description exists.
    Then one row per transaction ID. -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__credit_card_transactions') }}

),

pulls as (

    select * from {{ source('open_finance', 'open_finance__pulls') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_transactions') }},
        toDate(transaction_datetime, 'America/Sao_Paulo') as transaction_date
    from source

),

latest_bill_pull as (

    select institution, credit_card_account_id, bill_id, max(pull_date) as pull_date
    from renamed
    where bill_id is not null
    group by institution, credit_card_account_id, bill_id

),

billed as (

    select *
    from renamed
    where
        bill_id is not null
        and (institution, credit_card_account_id, bill_id, pull_date) in (select * from latest_bill_pull)

),

open_dates as (

    select distinct institution, transaction_date
    from renamed
    where bill_id is null

),

latest_covering_pull as (

    select
        open_dates.institution as institution,
        open_dates.transaction_date as transaction_date,
        max(pulls.pull_date) as pull_date
    from open_dates
    inner join pulls on open_dates.institution = pulls.institution
    where open_dates.transaction_date between pulls.window_start and pulls.window_end
    group by open_dates.institution, open_dates.transaction_date

),

still_open as (

    select *
    from renamed
    where
        bill_id is null
        and (
            (institution, transaction_date, pull_date) in (select * from latest_covering_pull)
            or (institution, transaction_date) not in (
                select institution, transaction_date from latest_covering_pull
            )
        )
        and (institution, credit_card_account_id, transaction_date, signed_brazilian_amount, transaction_name)
        not in (
            select institution, credit_card_account_id, transaction_date, signed_brazilian_amount, transaction_name
            from billed
        )

),

unioned as (

    select * from billed
    union all
    select * from still_open

),

one_row_per_id as (

    select *
    from unioned
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id, transaction_id

)

select * from one_row_per_id
