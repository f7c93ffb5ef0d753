{#- One row per forecast origin (each day with bank data) x target day (origin + 1 .. origin + 90): what the ERP
    said at the end of the origin day about the money falling due on the target day (receivables, payables, and
    the goods in transit whose customs taxes fall on arrival; dates moved to the next business day), and the
    bank's actual net movement on the target day (NULL after the last day with bank data). Point in time: a
    document counts only if it existed at the origin and was still open then; foreign amounts are valued at the
    last PTAX sell published by the origin. -#}
{{ config(order_by=['origin_date', 'target_date']) }}

{%- set horizon_days = var('ml_cash_flow_horizon_days', 90) | int %}

with

transactions as (

    select * from {{ ref('stg_open_finance__transactions') }}

),

receivables as (

    select * from {{ ref('stg_erp__receivables') }}

),

payables as (

    select * from {{ ref('stg_erp__payables') }}

),

payable_settlements as (

    select * from {{ ref('stg_erp__payable_settlements') }}

),

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

fx_rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

posted as (

    -- future-dated and processing entries are not movements yet
    select booking_date, signed_amount
    from transactions
    where status = 'TRANSACAO_EFETIVADA' and currency = 'BRL'

),

observed_range as (

    select min(booking_date) as first_day, max(booking_date) as last_day
    from posted

),

flows_by_day as (

    select
        booking_date as flow_date,
        cast(sum(signed_amount) as Nullable(Decimal(18, 4))) as net
    from posted
    group by booking_date

),

observed_days as (

    -- every calendar day of the observed range, zero on days without movements
    select
        calendar.date as flow_date,
        cast(coalesce(flows_by_day.net, 0) as Decimal(18, 4)) as net_brl
    from calendar
    cross join observed_range
    left join flows_by_day on calendar.date = flows_by_day.flow_date
    where calendar.date between observed_range.first_day and observed_range.last_day

),

origins as (

    -- each observed day is an origin; the range is a scalar, computed once however many steps read the origins
    select date as origin_date
    from calendar
    where date between (select first_day from observed_range) and (select last_day from observed_range)

),

expected_days as (

    -- money due on a weekend or holiday moves on the next business day
    select date as calendar_date, if(is_business_day, date, next_business_day) as expected_date
    from calendar

),

receivables_in_horizon as (

    -- the origins a receivable can count at: from its issue (and at most the horizon before its expected date)
    -- to the day before it is paid or expected, so each one meets only its own open days, not every origin
    select
        receivables.issue_date as issue_date,
        receivables.paid_date as paid_date,
        receivables.amount_brl as amount_brl,
        expected_days.expected_date as expected_date,
        greatest(receivables.issue_date, expected_days.expected_date - {{ horizon_days }}) as first_origin_date,
        least(expected_days.expected_date, ifNull(receivables.paid_date, expected_days.expected_date)) - 1  -- noqa: CV02
            as last_origin_date
    from receivables
    inner join expected_days on receivables.due_date = expected_days.calendar_date
    where not receivables.is_deleted

),

receivable_days as (

    select
        *,
        cast(first_origin_date + day_offset as Date) as candidate_origin_date
    from receivables_in_horizon
    array join range(toUInt32(greatest(dateDiff('day', first_origin_date, last_origin_date) + 1, 0))) as day_offset

),

open_receivables as (

    -- a receivable issued by the origin and not yet (fully) paid at its end
    select
        origins.origin_date as origin_date,
        receivable_days.expected_date as expected_date,
        receivable_days.amount_brl as open_amount_brl
    from receivable_days
    inner join origins on receivable_days.candidate_origin_date = origins.origin_date
    where
        receivable_days.issue_date <= origins.origin_date
        and (receivable_days.paid_date is null or receivable_days.paid_date > origins.origin_date)

),

payables_in_horizon as (

    -- the origins a payable can count at: from its invoice (and at most the horizon before its expected date)
    -- to the day before it is expected
    select
        payables.payable_id as payable_id,
        payables.currency as currency,
        payables.invoice_date as invoice_date,
        payables.amount as amount,
        expected_days.expected_date as expected_date,
        greatest(payables.invoice_date, expected_days.expected_date - {{ horizon_days }}) as first_origin_date,
        expected_days.expected_date - 1 as last_origin_date
    from payables
    inner join expected_days on payables.due_date = expected_days.calendar_date
    where not payables.is_deleted

),

payable_days as (

    select
        *,
        cast(first_origin_date + day_offset as Date) as candidate_origin_date
    from payables_in_horizon
    array join range(toUInt32(greatest(dateDiff('day', first_origin_date, last_origin_date) + 1, 0))) as day_offset

),

settlements_by_day as (

    select
        payable_id,
        settled_date,
        sum(amount) as settled_on_day
    from payable_settlements
    where not is_deleted
    group by payable_id, settled_date

),

settled_to_date as (

    -- what each payable had settled by the end of each of its settlement days
    select
        payable_id as settled_payable_id,
        settled_date,
        cast(
            sum(settled_on_day) over (partition by payable_id order by settled_date) as Nullable(Decimal(18, 4))
        ) as settled_amount
    from settlements_by_day

),

payables_at_origin as (

    -- the payable minus what was settled by the origin (the last settlement day on or before it)
    select
        origins.origin_date as origin_date,
        payable_days.payable_id as payable_id,
        payable_days.currency as currency,
        payable_days.expected_date as expected_date,
        payable_days.amount - coalesce(settled_to_date.settled_amount, 0) as open_amount
    from payable_days
    inner join origins on payable_days.candidate_origin_date = origins.origin_date
    asof left join settled_to_date
        on
            payable_days.payable_id = settled_to_date.settled_payable_id
            and payable_days.candidate_origin_date >= settled_to_date.settled_date
    where payable_days.invoice_date <= origins.origin_date

),

quotes as (

    select currency as quote_currency, date as quote_date, cast(ptax_sell as Nullable(Decimal(38, 8))) as ptax_sell
    from fx_rates

),

rates_at_origin as (

    -- the last PTAX sell published on or before each origin, per currency, if it is at most 10 days old
    select
        origins.origin_date as rate_origin_date,
        currencies.currency as rate_currency,
        if(quotes.quote_date > origins.origin_date - 10, quotes.ptax_sell, null) as ptax_sell
    from origins
    cross join (select distinct currency from fx_rates) as currencies
    asof left join quotes
        on currencies.currency = quotes.quote_currency and origins.origin_date >= quotes.quote_date

),

open_payables as (

    select
        payables_at_origin.origin_date as origin_date,
        payables_at_origin.expected_date as expected_date,
        cast(round(
            payables_at_origin.open_amount
            * if(
                payables_at_origin.currency = 'BRL',
                cast(1 as Decimal(38, 8)),
                assumeNotNull(rates_at_origin.ptax_sell)
            ),
            4
        ) as Decimal(18, 4)) as open_amount_brl
    from payables_at_origin
    left join rates_at_origin
        on
            payables_at_origin.origin_date = rates_at_origin.rate_origin_date
            and payables_at_origin.currency = rates_at_origin.rate_currency
    where
        payables_at_origin.open_amount > 0
        -- a foreign payable without a PTAX in the 10 days up to the origin cannot be valued: left out
        and (payables_at_origin.currency = 'BRL' or rates_at_origin.ptax_sell is not null)

),

arrivals as (

    select po_id as arrival_po_id, actual_arrival
    from shipments
    where not is_deleted

),

imports_in_horizon as (

    -- the origins an order can be in transit at: from its order date (and at most the horizon before its
    -- expected arrival) to the day before it arrives or is expected
    select
        purchase_orders.currency as currency,
        purchase_orders.order_date as order_date,
        purchase_orders.total_amount as total_amount,
        arrivals.actual_arrival as actual_arrival,
        expected_days.expected_date as expected_date,
        greatest(purchase_orders.order_date, expected_days.expected_date - {{ horizon_days }}) as first_origin_date,
        least(expected_days.expected_date, ifNull(arrivals.actual_arrival, expected_days.expected_date)) - 1  -- noqa: CV02
            as last_origin_date
    from purchase_orders
    inner join expected_days on assumeNotNull(purchase_orders.expected_arrival_date) = expected_days.calendar_date
    left join arrivals on purchase_orders.po_id = arrivals.arrival_po_id
    where
        not purchase_orders.is_deleted
        and purchase_orders.status != 'CANCELLED'
        and purchase_orders.expected_arrival_date is not null

),

import_days as (

    select
        *,
        cast(first_origin_date + day_offset as Date) as candidate_origin_date
    from imports_in_horizon
    array join range(toUInt32(greatest(dateDiff('day', first_origin_date, last_origin_date) + 1, 0))) as day_offset

),

imports_in_transit as (

    -- goods ordered by the origin and not arrived then: customs debits (II, IPI, PIS, COFINS, ICMS, AFRMM) fall
    -- on registration, on or just after arrival, so the order's value is due around its expected arrival
    select
        origins.origin_date as origin_date,
        import_days.expected_date as expected_date,
        cast(round(import_days.total_amount * assumeNotNull(rates_at_origin.ptax_sell), 4) as Decimal(18, 4))
            as value_brl
    from import_days
    inner join origins on import_days.candidate_origin_date = origins.origin_date
    left join rates_at_origin
        on
            origins.origin_date = rates_at_origin.rate_origin_date
            and import_days.currency = rates_at_origin.rate_currency
    where
        import_days.order_date <= origins.origin_date
        and (import_days.actual_arrival is null or import_days.actual_arrival > origins.origin_date)
        and rates_at_origin.ptax_sell is not null

),

imports_due as (

    select
        origin_date as due_origin_date,
        expected_date as due_target_date,
        cast(sum(value_brl) as Nullable(Decimal(18, 4))) as amount_brl
    from imports_in_transit
    where expected_date > origin_date
    group by origin_date, expected_date

),

receivables_due as (

    select
        origin_date as due_origin_date,
        expected_date as due_target_date,
        cast(sum(open_amount_brl) as Nullable(Decimal(18, 4))) as amount_brl
    from open_receivables
    where expected_date > origin_date
    group by origin_date, expected_date

),

payables_due as (

    select
        origin_date as due_origin_date,
        expected_date as due_target_date,
        cast(sum(open_amount_brl) as Nullable(Decimal(18, 4))) as amount_brl
    from open_payables
    where expected_date > origin_date
    group by origin_date, expected_date

),

grid as (

    select
        origin_date,
        cast(origin_date + horizon as Date) as target_date,
        cast(horizon as UInt16) as horizon_days
    from origins
    array join range(1, {{ horizon_days + 1 }}) as horizon

),

actuals as (

    select flow_date as actual_date, cast(net_brl as Nullable(Decimal(18, 4))) as net_brl
    from observed_days

),

final as (

    select
        grid.origin_date as origin_date,
        grid.target_date as target_date,
        grid.horizon_days as horizon_days,
        calendar.weekday as target_weekday,
        calendar.is_business_day as target_is_business_day,
        cast(coalesce(receivables_due.amount_brl, 0) as Decimal(18, 4)) as receivables_due_brl,
        cast(coalesce(payables_due.amount_brl, 0) as Decimal(18, 4)) as payables_due_brl,
        cast(coalesce(imports_due.amount_brl, 0) as Decimal(18, 4)) as imports_arriving_brl,
        actuals.net_brl as net_cash_flow_brl
    from grid
    inner join calendar on grid.target_date = calendar.date
    left join receivables_due
        on grid.origin_date = receivables_due.due_origin_date and grid.target_date = receivables_due.due_target_date
    left join payables_due
        on grid.origin_date = payables_due.due_origin_date and grid.target_date = payables_due.due_target_date
    left join imports_due
        on grid.origin_date = imports_due.due_origin_date and grid.target_date = imports_due.due_target_date
    left join actuals on grid.target_date = actuals.actual_date

)

select * from final
