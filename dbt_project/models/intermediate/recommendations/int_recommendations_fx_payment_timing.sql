{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per open foreign-currency payable due after the decision date, within the FX forecast's horizon, on
    which the forecast supports a decision: pay it early or on its due date. The FX model need not beat the
    random walk, so the rule reads only its interval, never the point alone: with S today's PTAX sell and
    [L, U] the interval of the PTAX sell forecast for the payment day (the due date, or the next business day):
    - L > S (the rate is forecast to rise even at the low end): `pay_early` today if the projected cash
      (today's BRL bank balance + the cash-flow forecast's cumulative net flows up to the day before payment)
      stays above `min_cash_buffer_brl` after this and every better-ranked early payment; else
      `lock_rate_forward` (buy the currency forward to the payment day). Effect: (forecast - S) x amount,
      from (L - S) to (U - S);
    - U < S (forecast to fall even at the high end): `pay_on_due_date`, do not pay early; (S - forecast) x amount;
    - otherwise no one-sided edge: `consider_hedge` only when the due-date cost may swing by
      (U - L) x amount >= `fx_hedge_min_swing_brl`; the effect of locking the rate is centred on
      (forecast - S) x amount (about zero for a random-walk-like model) with (L - S) and (U - S) as its range.
    The forecast used is each currency's latest origin on or before the as-of date. Without a cash forecast the
    cash is unknown and no early payment is recommended. While a forecast comes from its model's baseline
    (`model_kind` = 'baseline': no FX model beats the random walk's interval, or no cash-flow model beats the
    seasonal naive, yet), the sentence says so; the evidence names each model's version and kind. IOF and bank
    spreads are the same either day. -#}
{%- set buffer_brl = var('min_cash_buffer_brl') %}
{%- set min_swing_brl = var('fx_hedge_min_swing_brl') %}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

open_items as (

    select * from {{ ref('int_treasury_open_item_intervals') }}

),

balances as (

    select * from {{ ref('int_treasury_account_balances_dated') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

calendar as (

    select * from {{ ref('dim_calendar') }}

),

fx_forecast as (

    select * from {{ ref('stg_ml__fx_forecast_scores') }}

),

cash_forecast as (

    select * from {{ ref('stg_ml__cash_flow_scores') }}

),

spot as (

    -- the last PTAX published by the as-of date
    select
        rates.currency as currency,
        max(rates.date) as spot_date,
        argMax(rates.ptax_sell, rates.date) as spot_ptax_sell
    from rates
    cross join as_of
    where rates.date <= as_of.as_of_date
    group by rates.currency

),

payables as (

    -- open on the as-of date, due after the decision date; paid on the due date or the next business day
    select
        open_items.item_id as payable_id,
        open_items.counterparty_id as supplier_id,
        open_items.currency as currency,
        open_items.due_date as due_date,
        open_items.open_amount as open_amount,
        if(calendar.is_business_day, calendar.date, calendar.next_business_day) as pay_date
    from open_items
    cross join as_of
    inner join calendar on calendar.date = open_items.due_date
    where
        open_items.item_type = 'payable'
        and open_items.currency != 'BRL'
        and open_items.valid_from <= as_of.as_of_date
        and (open_items.valid_to is null or as_of.as_of_date < open_items.valid_to)
        and pay_date > as_of.decision_date

),

forecast_origins as (

    select fx_forecast.currency as currency, max(fx_forecast.origin_date) as origin_date
    from fx_forecast
    cross join as_of
    where fx_forecast.origin_date <= as_of.as_of_date
    group by fx_forecast.currency

),

latest_forecast as (

    select
        fx_forecast.currency as currency,
        fx_forecast.origin_date as origin_date,
        fx_forecast.horizon_days as horizon_days,
        fx_forecast.target_date as target_date,
        fx_forecast.forecast_rate as forecast_rate,
        fx_forecast.lower_rate as lower_rate,
        fx_forecast.upper_rate as upper_rate,
        fx_forecast.interval_level as interval_level,
        fx_forecast.model_name as model_name,
        fx_forecast.model_version as model_version,
        fx_forecast.model_kind as model_kind
    from fx_forecast
    inner join forecast_origins
        on forecast_origins.currency = fx_forecast.currency and forecast_origins.origin_date = fx_forecast.origin_date

),

forecast_payables as (

    select
        payables.payable_id as payable_id,
        payables.supplier_id as supplier_id,
        payables.currency as currency,
        payables.due_date as due_date,
        payables.open_amount as open_amount,
        payables.pay_date as pay_date,
        spot.spot_date as spot_date,
        spot.spot_ptax_sell as spot_rate,
        latest_forecast.origin_date as forecast_origin_date,
        latest_forecast.horizon_days as forecast_horizon_days,
        latest_forecast.forecast_rate as forecast_rate,
        latest_forecast.lower_rate as lower_rate,
        latest_forecast.upper_rate as upper_rate,
        latest_forecast.interval_level as interval_level,
        latest_forecast.model_name as fx_model_name,
        latest_forecast.model_version as fx_model_version,
        latest_forecast.model_kind as fx_model_kind,
        round(payables.open_amount * spot.spot_ptax_sell, 2) as payment_brl,
        multiIf(
            latest_forecast.lower_rate > spot.spot_ptax_sell, 'rise',
            latest_forecast.upper_rate < spot.spot_ptax_sell, 'fall',
            'two_sided'
        ) as outlook
    from payables
    inner join spot on spot.currency = payables.currency
    inner join latest_forecast
        on latest_forecast.currency = payables.currency and latest_forecast.target_date = payables.pay_date

),

bank_today as (

    -- BRL available balance of every account at the end of the as-of date (its last known day)
    select sum(available_balance) as balance_brl, count() as accounts
    from (
        select argMax(balances.available_balance, balances.date) as available_balance
        from balances
        cross join as_of
        where balances.currency = 'BRL' and balances.date <= as_of.as_of_date
        group by balances.institution, balances.account_id
    )

),

cash_origin as (

    select max(cash_forecast.origin_date) as origin_date
    from cash_forecast
    cross join as_of
    where cash_forecast.origin_date <= as_of.as_of_date

),

projected_cash as (

    -- balance at the end of each forecast day after the as-of date: today's balance + the forecast net flows
    select
        cash_forecast.target_date as cash_date,
        (select balance_brl from bank_today)
        + sum(cash_forecast.predicted_net_cash_flow_brl) over (order by cash_forecast.target_date) as balance_brl,
        cash_forecast.model_name as cash_model_name,
        cash_forecast.model_version as cash_model_version,
        cash_forecast.model_kind as cash_model_kind
    from cash_forecast
    cross join as_of
    where
        cash_forecast.origin_date = (select origin_date from cash_origin)
        and cash_forecast.target_date > as_of.as_of_date

),

cash_model as (

    select
        any(cash_model_name) as model_name,
        any(cash_model_version) as model_version,
        any(cash_model_kind) as model_kind,
        count() as days
    from projected_cash

),

early_candidates as (

    -- the lowest projected balance before the payment day (today's included); the cash forecast must cover every
    -- calendar day up to the one before the payment day
    select
        forecast_payables.payable_id as payable_id,
        least(
            (select balance_brl from bank_today),
            minIf(projected_cash.balance_brl, projected_cash.cash_date < forecast_payables.pay_date)
        ) as lowest_cash_brl,
        countIf(projected_cash.cash_date < forecast_payables.pay_date) as cash_days,
        any(forecast_payables.payment_brl) as payment_brl,
        any((forecast_payables.forecast_rate - forecast_payables.spot_rate) / forecast_payables.spot_rate) as gain_rate
    from forecast_payables
    cross join projected_cash
    cross join as_of
    where forecast_payables.outlook = 'rise'
    group by forecast_payables.payable_id
    having cash_days >= dateDiff('day', any(as_of.as_of_date), any(forecast_payables.pay_date)) - 1

),

ranked_early as (

    -- the best gains per BRL first; each early payment uses up the cash the ones before it left
    select
        early_candidates.*,
        sum(payment_brl) over (order by gain_rate desc, payable_id rows between unbounded preceding and current row)
            as cumulative_payment_brl,
        lowest_cash_brl - cumulative_payment_brl >= {{ buffer_brl }} as cash_allows
    from early_candidates

),

decided as (

    select
        forecast_payables.*,
        ranked_early.lowest_cash_brl as lowest_cash_brl,
        ranked_early.cumulative_payment_brl as cumulative_payment_brl,
        coalesce(ranked_early.cash_allows, false) as cash_allows,
        multiIf(
            outlook = 'rise' and coalesce(ranked_early.cash_allows, false), 'pay_early',
            outlook = 'rise', 'lock_rate_forward',
            outlook = 'fall', 'pay_on_due_date',
            'consider_hedge'
        ) as action_code,
        (upper_rate - lower_rate) * open_amount as swing_brl,
        -- said after the FX forecast's interval, when the random walk gives it
        if(fx_model_kind = 'baseline', ' by the random-walk baseline (no FX model beats it yet)', '') as fx_source,
        -- said after the sentence that uses the projected cash, when the seasonal naive projects it
        if(
            (select model_kind from cash_model) = 'baseline',
            ' (the cash projection is the seasonal-naive baseline: no cash-flow model beats it yet)',
            ''
        ) as cash_source
    from forecast_payables
    left join (
        select
            payable_id,
            toNullable(lowest_cash_brl) as lowest_cash_brl,
            toNullable(cumulative_payment_brl) as cumulative_payment_brl,
            toNullable(cash_allows) as cash_allows
        from ranked_early
    ) as ranked_early on ranked_early.payable_id = forecast_payables.payable_id
    where outlook != 'two_sided' or (upper_rate - lower_rate) * open_amount >= {{ min_swing_brl }}

),

effects as (

    -- BRL gained by the recommended action against the alternative (paying today, or paying on the due date)
    select
        decided.*,
        round(if(outlook = 'fall', spot_rate - forecast_rate, forecast_rate - spot_rate) * open_amount, 2)
            as expected_effect,
        round(if(outlook = 'fall', spot_rate - upper_rate, lower_rate - spot_rate) * open_amount, 2) as effect_low,
        round(if(outlook = 'fall', spot_rate - lower_rate, upper_rate - spot_rate) * open_amount, 2) as effect_high
    from decided

),

final as (

    select
        cast('fx_payment_timing' as String) as recommendation_type,
        cast(action_code as String) as action_code,
        cast('payable' as String) as subject_type,
        cast(effects.payable_id as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            multiIf(
                action_code = 'pay_early', 'Pay payable ',
                action_code = 'lock_rate_forward', 'Lock today''s rate for payable ',
                action_code = 'pay_on_due_date', 'Do not pay early payable ',
                'Consider hedging payable '
            ),
            effects.payable_id, ' (supplier ', effects.supplier_id, ', ', effects.currency, ' ',
            {{ money_text('open_amount') }}, ', due ', toString(due_date), ')',
            multiIf(
                action_code = 'pay_early', ' today',
                action_code = 'lock_rate_forward', concat(' with a forward to ', toString(pay_date)),
                action_code = 'pay_on_due_date', concat('; pay it on ', toString(pay_date)),
                ''
            ),
            '. The FX forecast for ', toString(pay_date), ' is ', {{ rate_text('forecast_rate') }}, ' (',
            {{ rate_text('lower_rate') }}, ' to ', {{ rate_text('upper_rate') }}, ')', fx_source, ', ',
            multiIf(
                outlook = 'rise', 'above',
                outlook = 'fall', 'below',
                'on both sides of'
            ),
            ' today''s PTAX sell ', {{ rate_text('spot_rate') }},
            multiIf(outlook = 'two_sided', '', ' even at its ' || if(outlook = 'rise', 'low', 'high') || ' end'),
            multiIf(
                action_code = 'pay_early',
                concat(
                    '. Paying R$ ', {{ money_text('payment_brl') }}, ' now keeps the projected cash at or above R$ ',
                    {{ money_text('assumeNotNull(lowest_cash_brl) - assumeNotNull(cumulative_payment_brl)') }},
                    ' before the due date (minimum R$ ', {{ money_text(buffer_brl) }}, ')', cash_source
                ),
                action_code = 'lock_rate_forward',
                if(
                    lowest_cash_brl is null,
                    '. The cash forecast is not available, so paying early is not recommended',
                    concat(
                        '. Paying now would take the projected cash below the R$ ', {{ money_text(buffer_brl) }},
                        ' minimum', cash_source
                    )
                ),
                action_code = 'consider_hedge',
                concat(
                    ': no one-sided edge. The BRL cost on the due date may differ by R$ ',
                    {{ money_text('swing_brl') }},
                    ' across the interval; lock the rate if that is more than you can absorb, else pay on the due date'
                ),
                ''
            ),
            '. Expected effect R$ ', {{ money_text('expected_effect') }}, ' (R$ ', {{ money_text('effect_low') }},
            ' to R$ ', {{ money_text('effect_high') }}, ').'
        ) as action,
        cast(expected_effect as Decimal(18, 4)) as expected_effect_brl,
        cast(effect_low as Decimal(18, 4)) as effect_low_brl,
        cast(effect_high as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "concat('[', " ~ json_object([
                    ('name', 'fx_model_name'), ('version', 'fx_model_version'), ('kind', 'fx_model_kind')
                ]) ~ ", if(lowest_cash_brl is null, '', concat(',', " ~ json_object([
                    ('name', '(select model_name from cash_model)'),
                    ('version', '(select model_version from cash_model)'),
                    ('kind', '(select model_kind from cash_model)'),
                ]) ~ ")), ']')"),
            ('inputs', json_object([
                ('payable_id', 'effects.payable_id'),
                ('supplier_id', 'effects.supplier_id'),
                ('currency', 'effects.currency'),
                ('open_amount', 'open_amount'),
                ('due_date', 'due_date'),
                ('pay_date', 'pay_date'),
                ('spot_date', 'spot_date'),
                ('spot_ptax_sell', 'spot_rate'),
                ('forecast_origin_date', 'forecast_origin_date'),
                ('forecast_horizon_days', 'forecast_horizon_days'),
                ('forecast_rate', 'forecast_rate'),
                ('forecast_lower', 'lower_rate'),
                ('forecast_upper', 'upper_rate'),
                ('interval_level', 'interval_level'),
                ('payment_brl', 'payment_brl'),
                ('bank_balance_brl', '(select balance_brl from bank_today)'),
                ('lowest_projected_cash_brl', 'lowest_cash_brl'),
                ('cumulative_early_payments_brl', 'cumulative_payment_brl'),
                ('min_cash_buffer_brl', 'toDecimal64(' ~ buffer_brl ~ ', 2)'),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        as_of.next_business_day as expires_on,
        cast(if(action_code in ('pay_early', 'lock_rate_forward'), 2, 3) as UInt8) as priority
    from effects
    cross join as_of

)

select * from final
