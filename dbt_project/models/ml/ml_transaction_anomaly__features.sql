{#- One row per posted bank movement (Open Finance account transaction, BRL): what makes it unusual in amount,
    counterparty, timing, duplication, or FX price. Point in time: amount statistics and duplicate counts use only
    EARLIER movements (or FX contracts), so a movement's features never depend on what came after it. -#}
{{ config(order_by=['booking_date', 'bank_transaction_id']) }}

{%- set min_history = var('ml_transaction_anomaly_min_history', 5) %}
{%- set duplicate_window_days = 7 %}
{#- the spread of log10 amounts a z-score divides by is at least this (about 12 %): a counterparty that always
    paid nearly the same amount would otherwise turn a cent's difference into a z-score in the thousands -#}
{%- set min_log_std = 0.05 %}
{%- set fx_duplicate_window_days = 10 %}
{#- transfers at or above the approval limit need a second signature; splitting one payment into several just
    under it avoids that, and is a classic red flag -#}
{%- set approval_limit = var('ml_transaction_anomaly_approval_limit_brl', 50000) %}
{%- set split_window_days = 3 %}

with

bank_movements as (

    -- the posted BRL movements, classified once for reconciliation and the features alike (future-dated and
    -- processing entries are not movements yet; `is_counterparty_known`: the ERP knows the tax id)
    select * from {{ ref('int_bank_movements_classified') }}

),

fx_operations as (

    select * from {{ ref('stg_open_finance__fx_operations') }}

),

fx_rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

posted as (

    select
        institution,
        account_id,
        bank_transaction_id,
        booking_date,
        transaction_datetime,
        credit_debit_type,
        transaction_type,
        amount_brl as amount,
        counterparty_tax_id,
        is_counterparty_known,
        -- base 10 or e gives the same z-scores; base 10 keeps round amounts exact (log10(1 + 999) = 3)
        log10(1 + toFloat64(amount)) as amount_log,
        -- an FX principal names its contract: "CAMBIO IMPORTACAO CONTR 123456789012 [C/ IOF E TARIFA]"
        if(
            match(upperUTF8(transaction_name), '^CAMBIO'),
            nullIf(extract(transaction_name, '[0-9]{6,}'), ''),
            cast(null as Nullable(String))
        ) as fx_contract_number
    from bank_movements

),

amount_history as (

    -- mean and spread of log amounts of the EARLIER movements of the same direction and type, and counterparty
    select
        *,
        count() over by_type as type_prior_count,
        avg(amount_log) over by_type as type_prior_mean,
        stddevSamp(amount_log) over by_type as type_prior_std,
        count() over by_counterparty as counterparty_prior_count,
        avg(amount_log) over by_counterparty as counterparty_prior_mean,
        stddevSamp(amount_log) over by_counterparty as counterparty_prior_std
    from posted
    window
        by_type as (
            partition by credit_debit_type, transaction_type
            order by transaction_datetime, bank_transaction_id
            rows between unbounded preceding and 1 preceding
        ),
        by_counterparty as (
            partition by credit_debit_type, counterparty_tax_id
            order by transaction_datetime, bank_transaction_id
            rows between unbounded preceding and 1 preceding
        )

),

same_amount_pairs as (

    -- earlier movements with the same direction, counterparty and amount, at most a week before
    select
        later.bank_transaction_id as pair_transaction_id,
        cast(count() as Nullable(UInt64)) as prior_count
    from posted as later
    inner join posted as earlier
        on
            later.credit_debit_type = earlier.credit_debit_type
            and later.counterparty_tax_id = earlier.counterparty_tax_id
            and later.amount = earlier.amount
    where
        later.counterparty_tax_id is not null
        and earlier.transaction_datetime < later.transaction_datetime
        and earlier.transaction_datetime >= later.transaction_datetime - interval {{ duplicate_window_days }} day
    group by later.bank_transaction_id

),

near_limit as (

    -- transfers sent (the payments the limit applies to) at most 10 % under the approval limit
    select bank_transaction_id, counterparty_tax_id, transaction_datetime
    from posted
    where
        credit_debit_type = 'DEBITO'
        and transaction_type in ('PIX', 'TED', 'DOC')
        and amount < {{ approval_limit }}
        and amount * 10 >= {{ approval_limit }} * 9

),

split_pairs as (

    -- earlier debits just under the limit to the same counterparty, at most `split_window_days` before
    select
        later.bank_transaction_id as split_transaction_id,
        cast(count() as Nullable(UInt64)) as prior_count
    from near_limit as later
    inner join near_limit as earlier on later.counterparty_tax_id = earlier.counterparty_tax_id
    where
        later.counterparty_tax_id is not null
        and earlier.transaction_datetime < later.transaction_datetime
        and earlier.transaction_datetime >= later.transaction_datetime - interval {{ split_window_days }} day
    group by later.bank_transaction_id

),

fx_contracts as (

    -- each FX contract with the PTAX sell of its contract day (São Paulo date of the operation)
    select
        fx_operations.operation_number as operation_number,
        fx_operations.operation_datetime as operation_datetime,
        fx_operations.due_date as due_date,
        fx_operations.foreign_currency as foreign_currency,
        fx_operations.foreign_value as foreign_value,
        fx_operations.fx_rate as fx_rate,
        fx_rates.ptax_sell as ptax_sell
    from fx_operations
    inner join fx_rates
        on
            fx_operations.foreign_currency = fx_rates.currency
            and toDate(fx_operations.operation_datetime, 'America/Sao_Paulo') = fx_rates.date
    where fx_operations.operation_number is not null

),

fx_duplicates as (

    -- earlier contracts (by settlement date, then time) buying the same foreign amount within the window
    select
        later.operation_number as duplicate_operation_number,
        count() as prior_count
    from fx_contracts as later
    inner join fx_contracts as earlier
        on later.foreign_currency = earlier.foreign_currency and later.foreign_value = earlier.foreign_value
    where
        (earlier.due_date, earlier.operation_datetime) < (later.due_date, later.operation_datetime)
        and earlier.due_date >= later.due_date - {{ fx_duplicate_window_days }}
    group by later.operation_number

),

fx_features as (

    select
        fx_contracts.operation_number as fx_operation_number,
        cast(toFloat64(fx_contracts.fx_rate) / toFloat64(fx_contracts.ptax_sell) - 1 as Nullable(Float64))
            as spread_over_ptax,
        cast(coalesce(fx_duplicates.prior_count, 0) as Nullable(UInt64)) as duplicate_prior_count
    from fx_contracts
    left join fx_duplicates on fx_contracts.operation_number = fx_duplicates.duplicate_operation_number

),

final as (

    select
        amount_history.institution as institution,
        amount_history.account_id as account_id,
        amount_history.bank_transaction_id as bank_transaction_id,
        amount_history.booking_date as booking_date,
        amount_history.transaction_datetime as transaction_datetime,
        amount_history.credit_debit_type as credit_debit_type,
        amount_history.transaction_type as transaction_type,
        amount_history.amount as amount,
        amount_history.counterparty_tax_id as counterparty_tax_id,
        if(
            amount_history.type_prior_count >= {{ min_history }},
            (amount_history.amount_log - amount_history.type_prior_mean)
            / greatest(amount_history.type_prior_std, {{ min_log_std }}),
            0
        ) as amount_log_zscore_type,
        if(
            amount_history.counterparty_tax_id is not null
            and amount_history.counterparty_prior_count >= {{ min_history }},
            (amount_history.amount_log - amount_history.counterparty_prior_mean)
            / greatest(amount_history.counterparty_prior_std, {{ min_log_std }}),
            0
        ) as amount_log_zscore_counterparty,
        cast(toHour(amount_history.transaction_datetime, 'America/Sao_Paulo') as UInt8) as hour_sao_paulo,
        cast(
            toHour(amount_history.transaction_datetime, 'America/Sao_Paulo') < 6
            or toHour(amount_history.transaction_datetime, 'America/Sao_Paulo') >= 22
            as Bool
        ) as is_off_hours,
        cast(not calendar.is_business_day as Bool) as is_weekend_or_holiday,
        cast(amount_history.amount >= 1000 and round(amount_history.amount, -3) = amount_history.amount as Bool)
            as is_round_amount,
        cast(
            amount_history.counterparty_tax_id is not null and not amount_history.is_counterparty_known as Bool
        ) as is_unknown_counterparty,
        cast(coalesce(same_amount_pairs.prior_count, 0) as UInt32) as same_amount_counterparty_prior_7d,
        cast(
            amount_history.bank_transaction_id in (select bank_transaction_id from near_limit) as Bool
        ) as is_just_below_limit,
        cast(coalesce(split_pairs.prior_count, 0) as UInt32) as below_limit_counterparty_prior_3d,
        amount_history.fx_contract_number as fx_contract_number,
        coalesce(fx_features.spread_over_ptax, 0) as fx_spread_over_ptax,
        cast(coalesce(fx_features.duplicate_prior_count, 0) as UInt32) as fx_duplicate_prior_10d
    from amount_history
    inner join calendar on amount_history.booking_date = calendar.date
    left join same_amount_pairs on amount_history.bank_transaction_id = same_amount_pairs.pair_transaction_id
    left join split_pairs on amount_history.bank_transaction_id = split_pairs.split_transaction_id
    left join fx_features on amount_history.fx_contract_number = fx_features.fx_operation_number

)

select * from final
