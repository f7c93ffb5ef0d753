{{ config(order_by=['institution', 'account_id', 'date']) }}
{#- One row per bank account (institution, account_id) and São Paulo date on which its balance is known or moves:
    the end-of-day available balance. How often a source gives a balance differs: Open Finance and Pluggy serve the
    CURRENT balance at each pull (one snapshot per pull: daily in production, every 31 days in the demo), an OFX
    statement the balance at the end of its period, a CNAB 240 statement the final balance of every day (all its
    days are `snapshot`s; the balances are the same). The days in between are rebuilt from the posted
    transactions (`TRANSACAO_EFETIVADA`), the same identity as the `balance_continuity` check:
        balance at the end of D = snapshot S + posted amounts after S's time up to the end of D,
    with S the last snapshot taken by the end of D; before the first snapshot, S is the first one and the
    posted amounts between the end of D and S are taken back out. `balance_source` says which case applies. -#}

with

balances as (

    select * from {{ ref('stg_bank__balances') }}

),

transactions as (

    select * from {{ ref('stg_bank__transactions') }}

),

posted as (

    select
        institution,
        account_id,
        transaction_datetime,
        toDate(transaction_datetime, 'America/Sao_Paulo') as local_date,
        signed_amount
    from transactions
    where status = 'TRANSACAO_EFETIVADA'

),

posted_cumulative as (

    -- running total of posted amounts per account, by instant (ties summed first)
    select
        institution,
        account_id,
        transaction_datetime,
        sum(moved) over (
            partition by institution, account_id order by transaction_datetime
            rows between unbounded preceding and current row
        ) as cumulative_amount
    from (
        select institution, account_id, transaction_datetime, sum(signed_amount) as moved
        from posted
        group by institution, account_id, transaction_datetime
    )

),

snapshots as (

    -- the last snapshot of each São Paulo day, with the running total of posted amounts at its instant
    select
        institution,
        account_id,
        local_date,
        update_datetime,
        available_amount,
        available_currency
    from (
        select
            institution,
            account_id,
            toDate(update_datetime, 'America/Sao_Paulo') as local_date,
            update_datetime,
            available_amount,
            available_currency
        from balances
        order by update_datetime desc
        limit 1 by institution, account_id, local_date
    )

),

snapshots_cumulated as (

    select
        snapshots.institution as institution,
        snapshots.account_id as account_id,
        snapshots.local_date as snapshot_date,
        snapshots.update_datetime as snapshot_datetime,
        snapshots.available_amount as snapshot_amount,
        snapshots.available_currency as currency,
        coalesce(posted_cumulative.cumulative_amount, toDecimal128(0, 4)) as cumulative_at_snapshot
    from snapshots
    asof left join (
        select institution, account_id, transaction_datetime, toNullable(cumulative_amount) as cumulative_amount
        from posted_cumulative
    ) as posted_cumulative
        on posted_cumulative.institution = snapshots.institution
        and posted_cumulative.account_id = snapshots.account_id
        and snapshots.update_datetime >= posted_cumulative.transaction_datetime

),

day_moves as (

    -- posted amounts per São Paulo day, and the running total at the end of each such day
    select
        institution,
        account_id,
        local_date,
        sum(sum(signed_amount)) over (
            partition by institution, account_id order by local_date
            rows between unbounded preceding and current row
        ) as cumulative_at_day_end
    from posted
    group by institution, account_id, local_date

),

dates as (

    -- every date with a snapshot or a posted movement
    select distinct institution, account_id, local_date as date from day_moves
    union distinct
    select institution, account_id, snapshot_date as date from snapshots_cumulated

),

with_cumulative as (

    select
        dates.institution as institution,
        dates.account_id as account_id,
        dates.date as date,
        coalesce(day_moves.cumulative_at_day_end, toDecimal128(0, 4)) as cumulative_at_day_end
    from dates
    asof left join (
        select institution, account_id, local_date, toNullable(cumulative_at_day_end) as cumulative_at_day_end
        from day_moves
    ) as day_moves
        on day_moves.institution = dates.institution
        and day_moves.account_id = dates.account_id
        and dates.date >= day_moves.local_date

),

first_snapshots as (

    select
        institution,
        account_id,
        argMin(snapshot_date, snapshot_datetime) as snapshot_date,
        argMin(snapshot_amount, snapshot_datetime) as snapshot_amount,
        argMin(currency, snapshot_datetime) as currency,
        argMin(cumulative_at_snapshot, snapshot_datetime) as cumulative_at_snapshot
    from snapshots_cumulated
    group by institution, account_id

),

anchored as (

    select
        with_cumulative.institution as institution,
        with_cumulative.account_id as account_id,
        with_cumulative.date as date,
        with_cumulative.cumulative_at_day_end as cumulative_at_day_end,
        last_snapshot.matched_date as last_snapshot_date,
        last_snapshot.snapshot_amount as last_snapshot_amount,
        last_snapshot.cumulative_at_snapshot as last_cumulative_at_snapshot,
        last_snapshot.currency as last_currency,
        first_snapshots.snapshot_date as first_snapshot_date,
        first_snapshots.snapshot_amount as first_snapshot_amount,
        first_snapshots.cumulative_at_snapshot as first_cumulative_at_snapshot,
        first_snapshots.currency as first_currency
    from with_cumulative
    asof left join (
        select
            institution,
            account_id,
            snapshot_date,
            toNullable(snapshot_date) as matched_date,
            toNullable(snapshot_amount) as snapshot_amount,
            toNullable(cumulative_at_snapshot) as cumulative_at_snapshot,
            toNullable(currency) as currency
        from snapshots_cumulated
    ) as last_snapshot
        on last_snapshot.institution = with_cumulative.institution
        and last_snapshot.account_id = with_cumulative.account_id
        and with_cumulative.date >= last_snapshot.snapshot_date
    inner join first_snapshots
        on first_snapshots.institution = with_cumulative.institution
        and first_snapshots.account_id = with_cumulative.account_id

),

final as (

    select
        institution,
        account_id,
        date,
        cast(coalesce(last_currency, first_currency) as LowCardinality(String)) as currency,
        cast(
            coalesce(last_snapshot_amount, first_snapshot_amount)
            + cumulative_at_day_end
            - coalesce(last_cumulative_at_snapshot, first_cumulative_at_snapshot)
            as Decimal(18, 4)
        ) as available_balance,
        cast(
            multiIf(
                last_snapshot_date = date, 'snapshot',
                last_snapshot_date is not null, 'rolled_forward',
                'rolled_back'
            ) as LowCardinality(String)
        ) as balance_source,
        cast(coalesce(last_snapshot_date, first_snapshot_date) as Date) as anchor_snapshot_date
    from anchored

)

select * from final
