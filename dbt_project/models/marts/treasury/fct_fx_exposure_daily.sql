{{ config(
    materialized='incremental',
    incremental_strategy='insert_overwrite',
    partition_by='toYYYYMM(date)',
    order_by=['currency', 'date'],
    on_schema_change='fail',
) }}

{#- Foreign-currency exposure per currency and business day, from the open items as of each day (settlement
    dates, not current statuses). Each open item is valued at the PTAX of the day (the last one published on or
    before it): payables at the selling rate, receivables at the buying rate, each item rounded to the centavo
    and then summed, so the due-date buckets add up exactly to the total. The spine runs over the business
    days from the first foreign invoice to the date both the ERP and PTAX are known up to
    (int_treasury_data_as_of). Incremental runs rewrite whole months from
    toStartOfMonth(that last date - lookback_days): relative to the data, not to today(). -#}
{%- set buckets = [
    ('overdue', 'days_to_due < 0'),
    ('0_30', 'days_to_due between 0 and 30'),
    ('31_60', 'days_to_due between 31 and 60'),
    ('61_90', 'days_to_due between 61 and 90'),
    ('over_90', 'days_to_due > 90'),
] -%}

with

calendar as (

    select * from {{ ref('dim_calendar') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

fx_items as (

    select * from {{ ref('int_treasury_open_item_intervals') }} where currency != 'BRL'

),

date_range as (

    {{ treasury_date_range('(select min(invoice_date) from fx_items)') }}

),

currency_days as (

    -- every currency ever owed or due in foreign currency x every business day of the window, plus enough days
    -- before it to reach the previous business day of its first day
    select
        currencies.currency as currency,
        calendar.date as date,
        calendar.previous_business_day as previous_business_day
    from calendar
    cross join (select distinct currency from fx_items) as currencies
    where
        calendar.is_business_day
        and calendar.date between (select first_date from date_range) and (select last_date from date_range)
        and calendar.date >= (select window_start from date_range) - 10

),

day_rates as (

    -- the PTAX of the day, or the last one published before it (a missing quote), with its date
    select
        currency_days.*,
        rates.quote_date as ptax_date,
        rates.ptax_buy as ptax_buy,
        rates.ptax_sell as ptax_sell
    from currency_days
    asof left join (
        select
            currency as rate_currency,
            date as rate_date,
            toNullable(date) as quote_date,
            toNullable(ptax_buy) as ptax_buy,
            toNullable(ptax_sell) as ptax_sell
        from rates
    ) as rates
        on rates.rate_currency = currency_days.currency
        and currency_days.date >= rates.rate_date

),

item_days as (

    select
        day_rates.currency as currency,
        day_rates.date as date,
        fx_items.item_type as item_type,
        fx_items.open_amount as open_amount,
        toInt32(fx_items.due_date - day_rates.date) as days_to_due,
        round(
            fx_items.open_amount * if(fx_items.item_type = 'receivable', day_rates.ptax_buy, day_rates.ptax_sell), 2
        ) as open_brl
    from day_rates
    inner join fx_items on fx_items.currency = day_rates.currency
    where fx_items.valid_from <= day_rates.date and (fx_items.valid_to is null or day_rates.date < fx_items.valid_to)

),

positions as (

    -- signed: payables count positive (foreign currency owed), receivables negative
    select
        currency,
        date,
        countIf(item_type = 'payable') as open_payables_count,
        sumIf(open_amount, item_type = 'payable') as open_payables_amount,
        sumIf(open_brl, item_type = 'payable') as open_payables_brl,
        countIf(item_type = 'receivable') as open_receivables_count,
        sumIf(open_amount, item_type = 'receivable') as open_receivables_amount,
        sumIf(open_brl, item_type = 'receivable') as open_receivables_brl,
        {%- for name, condition in buckets %}
        sumIf(if(item_type = 'payable', open_amount, -open_amount), {{ condition }}) as net_amount_due_{{ name }},
        sumIf(if(item_type = 'payable', open_brl, -open_brl), {{ condition }}) as net_brl_due_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from item_days
    group by currency, date

),

daily as (

    -- the whole panel: a day with nothing open is a row of zeros
    select
        day_rates.currency as currency,
        day_rates.date as date,
        day_rates.previous_business_day as previous_business_day,
        day_rates.ptax_date as ptax_date,
        day_rates.ptax_sell as ptax_sell,
        day_rates.ptax_buy as ptax_buy,
        coalesce(positions.open_payables_count, 0) as open_payables_count,
        coalesce(positions.open_payables_amount, 0) as open_payables_amount,
        if(day_rates.ptax_sell is null, null, coalesce(positions.open_payables_brl, 0)) as open_payables_brl,
        coalesce(positions.open_receivables_count, 0) as open_receivables_count,
        coalesce(positions.open_receivables_amount, 0) as open_receivables_amount,
        if(day_rates.ptax_buy is null, null, coalesce(positions.open_receivables_brl, 0)) as open_receivables_brl,
        {%- for name, condition in buckets %}
        coalesce(positions.net_amount_due_{{ name }}, 0) as net_amount_due_{{ name }},
        if(day_rates.ptax_sell is null, null, coalesce(positions.net_brl_due_{{ name }}, 0)) as net_brl_due_{{ name }},
        {%- endfor %}
        open_payables_amount - open_receivables_amount as net_exposure_amount,
        open_payables_brl - open_receivables_brl as net_exposure_brl
    from day_rates
    left join positions
        on positions.currency = day_rates.currency and positions.date = day_rates.date

),

with_change as (

    -- against the previous business day: the panel holds every business day of the computed range, so it is the
    -- previous row; before the first foreign invoice nothing was open (zero). The first computed day of an
    -- incremental run lies before the window and is dropped below.
    select
        *,
        net_exposure_amount - coalesce(lagInFrame(toNullable(net_exposure_amount)) over previous_day, 0)
            as net_exposure_amount_change,
        net_exposure_brl - coalesce(lagInFrame(net_exposure_brl) over previous_day, 0) as net_exposure_brl_change
    from daily
    window previous_day as (partition by currency order by date rows between 1 preceding and current row)

),

final as (

    select
        cast(currency as LowCardinality(String)) as currency,
        date,
        previous_business_day,
        cast(ptax_date as Nullable(Date)) as ptax_date,
        cast(ptax_sell as Nullable(Decimal(38, 8))) as ptax_sell,
        cast(ptax_buy as Nullable(Decimal(38, 8))) as ptax_buy,
        cast(open_payables_count as UInt64) as open_payables_count,
        cast(open_payables_amount as Decimal(18, 4)) as open_payables_amount,
        cast(open_payables_brl as Nullable(Decimal(18, 4))) as open_payables_brl,
        cast(open_receivables_count as UInt64) as open_receivables_count,
        cast(open_receivables_amount as Decimal(18, 4)) as open_receivables_amount,
        cast(open_receivables_brl as Nullable(Decimal(18, 4))) as open_receivables_brl,
        cast(net_exposure_amount as Decimal(18, 4)) as net_exposure_amount,
        cast(net_exposure_brl as Nullable(Decimal(18, 4))) as net_exposure_brl,
        cast(net_exposure_amount_change as Decimal(18, 4)) as net_exposure_amount_change,
        cast(net_exposure_brl_change as Nullable(Decimal(18, 4))) as net_exposure_brl_change,
        {%- for name, condition in buckets %}
        cast(net_amount_due_{{ name }} as Decimal(18, 4)) as net_amount_due_{{ name }},
        cast(net_brl_due_{{ name }} as Nullable(Decimal(18, 4))) as net_brl_due_{{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from with_change
    where date >= (select window_start from date_range)

)

select * from final
