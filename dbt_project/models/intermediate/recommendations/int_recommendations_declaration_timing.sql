{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per shipment whose cargo has arrived (actual_arrival by the as-of date) and has no import declaration
    yet: register it on the decision date or wait for the next Siscomex rate. The customs rate of a registration
    on day D is the PTAX selling rate of the business day before D (Notícia Siscomex Importação 016/2019; see
    marts/fx): registering on the decision date uses the PTAX of the business day before it, waiting one business
    day uses the PTAX of the decision date, which is either published already or, if not, taken from the FX
    forecast (its interval). Import taxes on the customs value (II, IPI, PIS, COFINS and ICMS) scale with that
    rate, so the effect is the rate difference x the customs value in foreign currency (goods + freight +
    insurance) x the taxes' share of the customs value on the latest past declaration of each SKU (the company's
    own average for an SKU never declared). `wait_next_rate` only when waiting is cheaper even at the top of the
    rate's interval; storage and demurrage of the extra day are not modelled. A forecast by the FX model's baseline
    (`model_kind` = 'baseline': no FX model beats the random walk's interval yet) is named as such. -#}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

order_lines as (

    select * from {{ ref('stg_erp__purchase_order_lines') }}

),

declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}

),

declaration_items as (

    select * from {{ ref('stg_erp__import_declaration_items') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

fx_forecast as (

    select * from {{ ref('stg_ml__fx_forecast_scores') }}

),

declared as (

    select distinct declarations.shipment_id as shipment_id
    from declarations
    cross join as_of
    where not declarations.is_deleted and declarations.registration_date <= as_of.as_of_date

),

waiting as (

    -- arrived by the as-of date, on a live purchase order, not declared
    select
        shipments.shipment_id as shipment_id,
        shipments.po_id as po_id,
        shipments.currency as currency,
        assumeNotNull(shipments.actual_arrival) as arrival_date,
        shipments.freight_amount as freight_amount,
        shipments.insurance_amount as insurance_amount
    from shipments
    inner join purchase_orders on purchase_orders.po_id = shipments.po_id
    cross join as_of
    where
        not shipments.is_deleted
        and not purchase_orders.is_deleted
        and purchase_orders.status != 'CANCELLED'
        and shipments.actual_arrival is not null
        and shipments.actual_arrival <= as_of.as_of_date
        and shipments.currency != 'BRL'
        and shipments.shipment_id not in (select shipment_id from declared)

),

item_ratios as (

    -- taxes on the customs value / customs value, per item of every past declaration
    select
        declaration_items.sku as sku,
        declarations.registration_date as registration_date,
        declarations.declaration_id as declaration_id,
        declaration_items.customs_value_brl as customs_value_brl,
        declaration_items.ii_brl + declaration_items.ipi_brl + declaration_items.pis_brl
        + declaration_items.cofins_brl + declaration_items.icms_brl as taxes_brl
    from declaration_items
    inner join declarations on declarations.declaration_id = declaration_items.declaration_id
    cross join as_of
    where
        not declaration_items.is_deleted
        and not declarations.is_deleted
        and declarations.registration_date <= as_of.as_of_date
        and declaration_items.customs_value_brl > 0

),

sku_ratios as (

    -- the SKU's latest declaration
    select
        sku,
        toNullable(
            toDecimal128(argMax(taxes_brl, (registration_date, declaration_id)), 8)
            / argMax(customs_value_brl, (registration_date, declaration_id))
        ) as tax_ratio
    from item_ratios
    group by sku

),

company_ratio as (

    -- NULL without any past declaration (an empty history must not divide by zero: ClickHouse evaluates
    -- Decimal division on every row it is given, so the denominator itself is made safe)
    select
        if(
            sum(customs_value_brl) = 0,
            null,
            toDecimal128(sum(taxes_brl), 8)
            / if(sum(customs_value_brl) = 0, toDecimal128(1, 4), sum(customs_value_brl))
        ) as tax_ratio
    from item_ratios

),

shipment_lines as (

    select
        waiting.shipment_id as shipment_id,
        order_lines.sku as sku,
        order_lines.line_amount as line_amount,
        sku_ratios.tax_ratio is not null as has_history,
        assumeNotNull(coalesce(sku_ratios.tax_ratio, (select tax_ratio from company_ratio))) as tax_ratio
    from waiting
    inner join order_lines on order_lines.po_id = waiting.po_id
    left join sku_ratios on sku_ratios.sku = order_lines.sku
    where not order_lines.is_deleted

),

shipment_ratios as (

    -- the line-value-weighted share, and its range over the shipment's SKUs
    select
        shipment_id,
        sum(line_amount) as goods_amount,
        sum(line_amount * tax_ratio) / sum(line_amount) as weighted_tax_ratio,
        min(tax_ratio) as min_tax_ratio,
        max(tax_ratio) as max_tax_ratio,
        countIf(has_history) as skus_with_history,
        count() as sku_lines
    from shipment_lines
    group by shipment_id

),

rate_today as (

    -- registering on the decision date: PTAX sell of the business day before it
    select rates.currency as currency, rates.date as rate_date, rates.ptax_sell as ptax_sell
    from rates
    cross join as_of
    where rates.date = as_of.previous_business_day

),

published_next as (

    -- waiting one business day: PTAX sell of the decision date, when already published
    select
        rates.currency as currency,
        toNullable(rates.ptax_sell) as ptax_sell
    from rates
    cross join as_of
    where rates.date = as_of.decision_date

),

forecast_next as (

    -- else the latest forecast of the decision date's PTAX sell made before it
    select
        fx_forecast.currency as currency,
        toNullable(argMax(fx_forecast.forecast_rate, fx_forecast.origin_date)) as forecast_rate,
        toNullable(argMax(fx_forecast.lower_rate, fx_forecast.origin_date)) as lower_rate,
        toNullable(argMax(fx_forecast.upper_rate, fx_forecast.origin_date)) as upper_rate,
        toNullable(max(fx_forecast.origin_date)) as origin_date,
        toNullable(argMax(fx_forecast.model_name, fx_forecast.origin_date)) as model_name,
        toNullable(argMax(fx_forecast.model_version, fx_forecast.origin_date)) as model_version,
        toNullable(argMax(fx_forecast.model_kind, fx_forecast.origin_date)) as model_kind
    from fx_forecast
    cross join as_of
    where fx_forecast.target_date = as_of.decision_date and fx_forecast.origin_date < as_of.decision_date
    group by fx_forecast.currency

),

priced as (

    select
        waiting.shipment_id as shipment_id,
        waiting.po_id as po_id,
        waiting.currency as currency,
        waiting.arrival_date as arrival_date,
        waiting.freight_amount as freight_amount,
        waiting.insurance_amount as insurance_amount,
        shipment_ratios.goods_amount as goods_amount,
        shipment_ratios.goods_amount + waiting.freight_amount + waiting.insurance_amount as customs_value_amount,
        shipment_ratios.weighted_tax_ratio as tax_ratio,
        shipment_ratios.min_tax_ratio as tax_ratio_low,
        shipment_ratios.max_tax_ratio as tax_ratio_high,
        shipment_ratios.skus_with_history as skus_with_history,
        shipment_ratios.sku_lines as sku_lines,
        rate_today.rate_date as rate_today_date,
        rate_today.ptax_sell as rate_today,
        published_next.ptax_sell is not null as next_rate_published,
        coalesce(published_next.ptax_sell, forecast_next.forecast_rate) as next_rate,
        coalesce(published_next.ptax_sell, forecast_next.lower_rate) as next_rate_low,
        coalesce(published_next.ptax_sell, forecast_next.upper_rate) as next_rate_high,
        forecast_next.origin_date as forecast_origin_date,
        forecast_next.model_name as forecast_model_name,
        forecast_next.model_version as forecast_model_version,
        forecast_next.model_kind as forecast_model_kind
    from waiting
    inner join shipment_ratios on shipment_ratios.shipment_id = waiting.shipment_id
    inner join rate_today on rate_today.currency = waiting.currency
    left join published_next on published_next.currency = waiting.currency
    left join forecast_next on forecast_next.currency = waiting.currency

),

decided as (

    -- waiting saves (today's rate - next rate) x customs value x tax share; wait only if it does at the top of
    -- the next rate's interval
    select
        priced.*,
        rate_today > next_rate_high as should_wait,
        if(should_wait, rate_today - next_rate, next_rate - rate_today) as rate_gain,
        if(should_wait, rate_today - next_rate_high, next_rate_low - rate_today) as rate_gain_low,
        if(should_wait, rate_today - next_rate_low, next_rate_high - rate_today) as rate_gain_high
    from priced
    where next_rate is not null

),

effects as (

    select
        decided.*,
        round(rate_gain * customs_value_amount * tax_ratio, 2) as expected_effect,
        round(
            least(rate_gain_low * customs_value_amount * tax_ratio_low, rate_gain_low * customs_value_amount * tax_ratio_high),
            2
        ) as effect_low,
        round(
            greatest(
                rate_gain_high * customs_value_amount * tax_ratio_low, rate_gain_high * customs_value_amount * tax_ratio_high
            ),
            2
        ) as effect_high
    from decided

),

final as (

    select
        cast('declaration_timing' as String) as recommendation_type,
        cast(if(should_wait, 'wait_next_rate', 'register_today') as String) as action_code,
        cast('shipment' as String) as subject_type,
        cast(effects.shipment_id as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            if(should_wait, 'Wait: register the import declaration of shipment ', 'Register the import declaration of shipment '),
            effects.shipment_id, ' (', effects.po_id, ', arrived ', toString(arrival_date), ') ',
            if(should_wait, concat('on ', toString(as_of.next_business_day)), concat('today, ', toString(as_of.decision_date))),
            '. Today''s Siscomex rate is ', {{ rate_text('rate_today') }}, ' (PTAX sell of ', toString(rate_today_date),
            '); from ', toString(as_of.next_business_day), ' it is ',
            if(
                next_rate_published,
                concat({{ rate_text('next_rate') }}, ' (PTAX sell of ', toString(as_of.decision_date), ', published)'),
                concat(
                    'forecast at ', {{ rate_text('next_rate') }}, ' (', {{ rate_text('next_rate_low') }}, ' to ',
                    {{ rate_text('next_rate_high') }}, ')',
                    if(forecast_model_kind = 'baseline', ' by the random-walk baseline (no FX model beats it yet)', '')
                )
            ),
            '. On a customs value of ', effects.currency, ' ', {{ money_text('customs_value_amount') }},
            ' the import taxes (', toDecimalString(round(tax_ratio * 100, 1), 1), '% of it) ',
            if(should_wait, 'fall', 'would rise'), ' by about R$ ', {{ money_text('expected_effect') }},
            ' (R$ ', {{ money_text('effect_low') }}, ' to R$ ', {{ money_text('effect_high') }}, ')',
            if(should_wait, '; weigh it against a day of storage.', ' by waiting.')
        ) as action,
        cast(expected_effect as Decimal(18, 4)) as expected_effect_brl,
        cast(effect_low as Decimal(18, 4)) as effect_low_brl,
        cast(effect_high as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "if(next_rate_published, '[]', concat('[', " ~ json_object([
                ('name', 'forecast_model_name'), ('version', 'forecast_model_version'), ('kind', 'forecast_model_kind')
            ]) ~ ", ']'))"),
            ('inputs', json_object([
                ('shipment_id', 'effects.shipment_id'),
                ('po_id', 'effects.po_id'),
                ('currency', 'effects.currency'),
                ('arrival_date', 'arrival_date'),
                ('goods_amount', 'goods_amount'),
                ('freight_amount', 'freight_amount'),
                ('insurance_amount', 'insurance_amount'),
                ('customs_value_amount', 'customs_value_amount'),
                ('rate_today', 'rate_today'),
                ('rate_today_ptax_date', 'rate_today_date'),
                ('next_rate', 'next_rate'),
                ('next_rate_low', 'next_rate_low'),
                ('next_rate_high', 'next_rate_high'),
                ('next_rate_source', "if(next_rate_published, 'ptax', 'fx_forecast')"),
                ('forecast_origin_date', 'forecast_origin_date'),
                ('tax_ratio', 'tax_ratio'),
                ('tax_ratio_low', 'tax_ratio_low'),
                ('tax_ratio_high', 'tax_ratio_high'),
                ('skus_with_history', 'skus_with_history'),
                ('sku_lines', 'sku_lines'),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        as_of.next_business_day as expires_on,
        cast(1 as UInt8) as priority
    from effects
    cross join as_of

)

select * from final
