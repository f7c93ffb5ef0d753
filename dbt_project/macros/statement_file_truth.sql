{#- The CTEs that keep, of a statement movement seen in several files, the row of the latest file covering its date
    (a re-sent or corrected statement replaces what an earlier file said about those days), then one row per id.
    Reads the CTEs `renamed` (the movements, with `file_sha256`, `arrived_at`, `line_number`) and `files` (each
    file's account and period: `statement_start`, `statement_end`, `_arrived_at`); the model ends with
    `select * from one_row_per_id`. `account` is the movements' account column, `file_account` the files', `day` the
    movement's date column. Used by the bank and the credit-card statement staging. -#}
{% macro statement_file_truth(account, file_account, day) %}
coverage as (

    -- each file's period per account (a file without one covers the dates of its own movements)
    select
        files.institution as institution,
        files.{{ file_account }} as {{ account }},
        files.file_sha256 as file_sha256,
        cast(files._arrived_at as DateTime64(3, 'UTC')) as arrived_at,
        coalesce(cast(files.statement_start as Nullable(Date)), moved.first_day) as covers_from,
        coalesce(cast(files.statement_end as Nullable(Date)), moved.last_day) as covers_to
    from files
    left join (
        select {{ account }}, file_sha256, min({{ day }}) as first_day, max({{ day }}) as last_day
        from renamed
        group by {{ account }}, file_sha256
    ) as moved
        on files.{{ file_account }} = moved.{{ account }} and files.file_sha256 = moved.file_sha256

),

movement_dates as (

    select distinct institution, {{ account }}, {{ day }}
    from renamed

),

latest_covering_file as (

    select
        movement_dates.institution as institution,
        movement_dates.{{ account }} as {{ account }},
        movement_dates.{{ day }} as {{ day }},
        argMax(coverage.file_sha256, coverage.arrived_at) as file_sha256
    from movement_dates
    inner join coverage
        on movement_dates.institution = coverage.institution and movement_dates.{{ account }} = coverage.{{ account }}
    where movement_dates.{{ day }} between coverage.covers_from and coverage.covers_to
    group by movement_dates.institution, movement_dates.{{ account }}, movement_dates.{{ day }}

),

truth_of_the_date as (

    select *
    from renamed
    where
        (institution, {{ account }}, {{ day }}, file_sha256) in (
            select institution, {{ account }}, {{ day }}, file_sha256 from latest_covering_file
        )
        -- a movement outside every file's period (it should not happen) is kept, latest arrival first
        or (institution, {{ account }}, {{ day }}) not in (
            select institution, {{ account }}, {{ day }} from latest_covering_file
        )

),

one_row_per_id as (

    select *
    from truth_of_the_date
    order by arrived_at desc, line_number desc
    limit 1 by institution, {{ account }}, transaction_id

)
{% endmacro %}
