{{ config(order_by=['item_type', 'currency', 'item_id']) }}
{#- One row per open item (payable or receivable) and interval of constant open amount: the item is open for
    `open_amount` (in its currency) on every day D with valid_from <= D < valid_to (valid_to NULL: still open).
    "Open on D" is rebuilt from dates, never from the current status, so any past day can be reproduced:
    - a payable opens on its invoice date, and every settlement (settled_date) lowers its open amount from that
      day on; a settlement dated before the invoice (an advance) counts from the invoice date;
    - a receivable opens on its issue date. The ERP keeps one `paid_date` (the last payment) and the cumulative
      `paid_amount_brl`, not each payment, so a receivable counts as fully open until `paid_date` and, if still
      short after it, open for the rest: a first partial payment shows only from the date of the last one.
    Soft-deleted rows (ERP corrections) are left out of every day. Overpaid items are never negative. -#}

with

payables as (

    select * from {{ ref('stg_erp__payables') }}

),

settlements as (

    select * from {{ ref('int_treasury_payable_settlements_allocated') }}

),

receivables as (

    select * from {{ ref('stg_erp__receivables') }}

),

live_payables as (

    select
        payable_id,
        supplier_id,
        document_type,
        invoice_date,
        due_date,
        currency,
        amount
    from payables
    where not is_deleted

),

payable_changes as (

    -- the invoice itself (nothing settled yet), then each settlement day (an advance counts from the invoice)
    select payable_id, invoice_date as change_date, toDecimal128(0, 4) as settled
    from live_payables
    union all
    select
        settlements.payable_id as payable_id,
        greatest(settlements.settled_date, live_payables.invoice_date) as change_date,
        toDecimal128(settlements.amount, 4) as settled
    from settlements
    inner join live_payables on live_payables.payable_id = settlements.payable_id

),

payable_changes_by_day as (

    select payable_id, change_date, sum(settled) as settled
    from payable_changes
    group by payable_id, change_date

),

payable_intervals as (

    select
        live_payables.payable_id as item_id,
        live_payables.supplier_id as counterparty_id,
        live_payables.document_type as document_type,
        live_payables.invoice_date as invoice_date,
        live_payables.due_date as due_date,
        live_payables.currency as currency,
        live_payables.amount as amount,
        payable_changes_by_day.change_date as valid_from,
        leadInFrame(toNullable(payable_changes_by_day.change_date)) over next_change as valid_to,
        live_payables.amount - sum(payable_changes_by_day.settled) over settled_so_far as open_amount
    from payable_changes_by_day
    inner join live_payables on live_payables.payable_id = payable_changes_by_day.payable_id
    window
        next_change as (
            partition by payable_changes_by_day.payable_id
            order by payable_changes_by_day.change_date
            rows between current row and 1 following
        ),
        settled_so_far as (
            partition by payable_changes_by_day.payable_id
            order by payable_changes_by_day.change_date
            rows between unbounded preceding and current row
        )

),

receivable_intervals as (

    -- fully open from the issue date to the (last) payment date, then open for what is still missing, if anything
    select
        receivable_id as item_id,
        customer_id as counterparty_id,
        cast('RECEIVABLE' as LowCardinality(String)) as document_type,
        issue_date as invoice_date,
        due_date,
        cast('BRL' as LowCardinality(String)) as currency,
        amount_brl as amount,
        interval.1 as valid_from,
        interval.2 as valid_to,
        toDecimal128(interval.3, 4) as open_amount
    from receivables
    array join
        if(
            paid_date is null,
            [(issue_date, cast(null as Nullable(Date)), amount_brl)],
            [
                (issue_date, toNullable(greatest(paid_date, issue_date)), amount_brl),
                (greatest(paid_date, issue_date), cast(null as Nullable(Date)), amount_brl - coalesce(paid_amount_brl, toDecimal64(0, 4)))
            ]
        ) as interval
    where not is_deleted

),

unioned as (

    select cast('payable' as LowCardinality(String)) as item_type, * from payable_intervals
    union all
    select cast('receivable' as LowCardinality(String)) as item_type, * from receivable_intervals

),

final as (

    select
        item_type,
        item_id,
        counterparty_id,
        document_type,
        invoice_date,
        due_date,
        currency,
        amount,
        valid_from,
        valid_to,
        cast(open_amount as Decimal(18, 4)) as open_amount
    from unioned
    where open_amount > 0 and (valid_to is null or valid_to > valid_from)

)

select * from final
