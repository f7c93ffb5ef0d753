{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per foreign currency whose net exposure on the as-of date is over the policy limit
    (`fx_exposure_limit_brl`, in BRL, either sign): hedge the excess. The exposure is the one of
    marts.fct_fx_exposure_daily: open payables at PTAX sell minus open receivables at PTAX buy, item by item to
    the centavo, on the last PTAX published by the as-of date. The effect claims no edge: hedging has an expected
    effect of zero, and its range is what the unhedged excess would have gained or lost over
    `fx_exposure_horizon_business_days` in 90% of the moves of the last year (5% and 95% quantiles of the PTAX sell
    change over that many quotes, the last 252 of them). No model is involved. -#}
{%- set limit_brl = var('fx_exposure_limit_brl') %}
{%- set horizon = var('fx_exposure_horizon_business_days') %}
{%- set history = 252 %}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

open_items as (

    select * from {{ ref('int_treasury_open_item_intervals') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

quotes as (

    -- the PTAX quotes published by the as-of date, newest first
    select
        rates.currency as currency,
        rates.date as date,
        rates.ptax_buy as ptax_buy,
        rates.ptax_sell as ptax_sell,
        row_number() over (partition by rates.currency order by rates.date desc) as age
    from rates
    cross join as_of
    where rates.date <= as_of.as_of_date

),

spot as (

    select currency, date as spot_date, ptax_buy as spot_ptax_buy, ptax_sell as spot_ptax_sell
    from quotes
    where age = 1

),

moves as (

    -- relative change of the PTAX sell over `horizon` quotes, for the last `history` quotes
    select
        later.currency as currency,
        quantileExact(0.05)(later.ptax_sell / earlier.ptax_sell - 1) as move_p05,
        quantileExact(0.95)(later.ptax_sell / earlier.ptax_sell - 1) as move_p95,
        count() as move_count
    from quotes as later
    inner join quotes as earlier
        on earlier.currency = later.currency and earlier.age = later.age + {{ horizon }}
    where later.age <= {{ history }}
    group by later.currency

),

open_on_as_of as (

    select open_items.*
    from open_items
    cross join as_of
    where
        open_items.currency != 'BRL'
        and open_items.valid_from <= as_of.as_of_date
        and (open_items.valid_to is null or as_of.as_of_date < open_items.valid_to)

),

positions as (

    -- signed: payables count positive (foreign currency owed), receivables negative
    select
        open_on_as_of.currency as currency,
        any(spot.spot_date) as spot_date,
        any(spot.spot_ptax_sell) as spot_ptax_sell,
        countIf(open_on_as_of.item_type = 'payable') as open_payables_count,
        countIf(open_on_as_of.item_type = 'receivable') as open_receivables_count,
        sum(if(open_on_as_of.item_type = 'payable', open_on_as_of.open_amount, -open_on_as_of.open_amount))
            as net_exposure_amount,
        sum(
            if(
                open_on_as_of.item_type = 'payable',
                round(open_on_as_of.open_amount * spot.spot_ptax_sell, 2),
                -round(open_on_as_of.open_amount * spot.spot_ptax_buy, 2)
            )
        ) as net_exposure_brl
    from open_on_as_of
    inner join spot on spot.currency = open_on_as_of.currency
    group by open_on_as_of.currency

),

over_limit as (

    select
        positions.*,
        moves.move_p05 as move_p05,
        moves.move_p95 as move_p95,
        moves.move_count as move_count,
        abs(positions.net_exposure_brl) - {{ limit_brl }} as excess_brl,
        if(positions.net_exposure_brl > 0, 1, -1) as side
    from positions
    inner join moves on moves.currency = positions.currency
    where abs(positions.net_exposure_brl) > {{ limit_brl }}

),

effects as (

    -- a hedge of a net payable gains when the rate rises; of a net receivable, when it falls
    select
        over_limit.*,
        round(excess_brl / spot_ptax_sell, 2) as hedge_amount,
        round(if(side > 0, excess_brl * move_p05, -excess_brl * move_p95), 2) as effect_low_brl,
        round(if(side > 0, excess_brl * move_p95, -excess_brl * move_p05), 2) as effect_high_brl
    from over_limit

),

final as (

    select
        cast('fx_exposure_limit' as String) as recommendation_type,
        cast(if(side > 0, 'hedge_buy_forward', 'hedge_sell_forward') as String) as action_code,
        cast('currency' as String) as subject_type,
        cast(effects.currency as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            'Net ', effects.currency, ' exposure is R$ ', {{ money_text('abs(net_exposure_brl)') }},
            if(side > 0, ' owed', ' receivable'), ' (', effects.currency, ' ',
            {{ money_text('abs(net_exposure_amount)') }}, ' at PTAX ', {{ rate_text('spot_ptax_sell') }},
            '), over the policy limit of R$ ', {{ money_text(limit_brl) }}, ' by R$ ', {{ money_text('excess_brl') }},
            '. Hedge about ', effects.currency, ' ', {{ money_text('hedge_amount') }},
            if(
                side > 0,
                ' (buy it forward or with an NDF, or pay the earliest payables in this currency now)',
                ' (sell it forward or with an NDF)'
            ),
            '. Over ', toString({{ horizon }}), ' business days the unhedged excess moved between R$ ',
            {{ money_text('effect_low_brl') }}, ' and R$ ', {{ money_text('effect_high_brl') }},
            ' in 90% of the last year''s moves; the expected effect is zero (no forecast edge is claimed).'
        ) as action,
        cast(0 as Decimal(18, 4)) as expected_effect_brl,
        cast(effect_low_brl as Decimal(18, 4)) as effect_low_brl,
        cast(effect_high_brl as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "'[]'"),
            ('inputs', json_object([
                ('currency', 'effects.currency'),
                ('net_exposure_amount', 'net_exposure_amount'),
                ('net_exposure_brl', 'net_exposure_brl'),
                ('open_payables_count', 'open_payables_count'),
                ('open_receivables_count', 'open_receivables_count'),
                ('limit_brl', 'toDecimal64(' ~ limit_brl ~ ', 2)'),
                ('excess_brl', 'excess_brl'),
                ('spot_date', 'spot_date'),
                ('spot_ptax_sell', 'spot_ptax_sell'),
                ('horizon_business_days', horizon | string),
                ('history_moves', 'move_count'),
                ('move_p05', 'move_p05'),
                ('move_p95', 'move_p95'),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        as_of.next_business_day as expires_on,
        cast(1 as UInt8) as priority
    from effects
    cross join as_of

)

select * from final
