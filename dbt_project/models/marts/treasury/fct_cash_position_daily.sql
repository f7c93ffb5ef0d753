{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by='toYYYYMM(date)',
    order_by=['line_type', 'currency', 'date'],
    on_schema_change='fail',
) }}

{#- The cash position of each business day, as additive lines: every bank account's end-of-day available balance
    (Open Finance, rebuilt between snapshots from posted transactions: int_treasury_account_balances_dated), and
    the payables and receivables still open that day and due within `horizon_days` (overdue ones included: they
    are still to be paid), one line per item type and currency. Foreign payables are converted at the latest
    PTAX selling rate published by that day, item by item to the centavo. `amount_brl` is signed (cash in
    positive, cash out negative), so its sum over a day is the projected position at the horizon. The spine runs
    over the business days from the first day the bank data covers to the last day the bank, the ERP and PTAX
    are all known up to (int_treasury_data_as_of). Incremental runs rewrite whole months from
    toStartOfMonth(that last date - lookback_days): relative to the data, not to today(). -#}
{%- set horizon_days = 90 -%}

with

balances as (

    select * from {{ ref('int_treasury_account_balances_dated') }}

),

open_items as (

    select * from {{ ref('int_treasury_open_item_intervals') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

date_range as (

    {{ treasury_date_range('(select min(date) from balances)', with_bank=true) }}

),

days as (

    select date
    from calendar
    where
        is_business_day
        and date between (select window_start from date_range) and (select last_date from date_range)

),

account_days as (

    select accounts.institution as institution, accounts.account_id as account_id, days.date as date
    from days
    cross join (select distinct institution, account_id from balances) as accounts

),

account_balances as (

    -- the balance at the end of the day: the last dated balance on or before it (no movement since)
    select
        cast('account_balance' as LowCardinality(String)) as line_type,
        toNullable(account_days.institution) as institution,
        toNullable(account_days.account_id) as account_id,
        balances.currency as currency,
        account_days.date as date,
        balances.available_balance as amount,
        toUInt64(0) as items_count,
        cast(0 as Decimal(18, 4)) as overdue_amount,
        cast(null as Nullable(Date)) as ptax_date,
        cast(null as Nullable(Decimal(38, 8))) as ptax_sell,
        toDecimal128(balances.available_balance, 4) as amount_brl,
        toNullable(balances.balance_source) as balance_source
    from account_days
    asof inner join balances  -- noqa: AL01, AL05
        on balances.institution = account_days.institution
        and balances.account_id = account_days.account_id
        and account_days.date >= balances.date

),

item_days as (

    select
        days.date as date,
        open_items.item_type as item_type,
        open_items.currency as currency,
        open_items.open_amount as open_amount,
        open_items.due_date < days.date as is_overdue
    from days
    cross join open_items
    where
        open_items.valid_from <= days.date
        and (open_items.valid_to is null or days.date < open_items.valid_to)
        and open_items.due_date <= days.date + {{ horizon_days }}

),

item_rates as (

    -- BRL items at face value; foreign ones at the last PTAX sell published by that day
    select
        item_days.*,
        rates.quote_date as ptax_date,
        rates.ptax_sell as ptax_sell,
        cast(
            if(item_days.currency = 'BRL', toDecimal128(item_days.open_amount, 12), round(item_days.open_amount * rates.ptax_sell, 2))
            as Nullable(Decimal(38, 4))
        ) as open_brl
    from item_days
    asof left join (
        select currency as rate_currency, date as rate_date, toNullable(date) as quote_date, toNullable(ptax_sell) as ptax_sell
        from rates
    ) as rates
        on rates.rate_currency = item_days.currency
        and item_days.date >= rates.rate_date

),

scheduled as (

    select
        cast(if(item_type = 'payable', 'scheduled_payables', 'scheduled_receivables') as LowCardinality(String))
            as line_type,
        cast(null as Nullable(String)) as institution,
        cast(null as Nullable(String)) as account_id,
        currency,
        date,
        sum(open_amount) as amount,
        count() as items_count,
        sumIf(open_amount, is_overdue) as overdue_amount,
        any(ptax_date) as ptax_date,
        any(ptax_sell) as ptax_sell,
        -- NULL when a foreign item has no PTAX yet, rather than a silently smaller total
        if(countIf(open_brl is null) > 0, null, if(item_type = 'payable', -1, 1) * sum(open_brl)) as amount_brl,
        cast(null as Nullable(String)) as balance_source
    from item_rates
    group by item_type, currency, date

),

unioned as (

    select * from account_balances
    union all
    select * from scheduled

),

final as (

    select
        date,
        cast(line_type as LowCardinality(String)) as line_type,
        cast(institution as LowCardinality(Nullable(String))) as institution,
        cast(account_id as Nullable(String)) as account_id,
        cast(currency as LowCardinality(String)) as currency,
        cast(amount as Decimal(18, 4)) as amount,
        cast(items_count as UInt64) as items_count,
        cast(overdue_amount as Decimal(18, 4)) as overdue_amount,
        cast(ptax_date as Nullable(Date)) as ptax_date,
        cast(ptax_sell as Nullable(Decimal(38, 8))) as ptax_sell,
        cast(amount_brl as Nullable(Decimal(18, 4))) as amount_brl,
        cast(balance_source as LowCardinality(Nullable(String))) as balance_source
    from unioned

)

select * from final
