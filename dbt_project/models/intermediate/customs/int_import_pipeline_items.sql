{{ config(order_by=['declaration_key', 'po_id', 'line_number']) }}
{#- One row per line of a purchase order still in the pipeline as of the ERP's as-of date: not deleted, not
    cancelled, received or closed, and with no import declaration for its shipment yet (an open order, a booked or
    in-transit shipment, or cargo arrived and not declared). It holds what a declaration of it would start from,
    each choice a convention of the estimate (models/marts/customs/README.md, "Regime comparison"):
    - the future declaration is the PO's shipment (its latest by ETD), or the PO itself before it is booked;
    - its freight and insurance are the shipment's (0 before booking: `is_freight_known` false), allocated to the
      lines as the demo broker does: freight by net weight (quantity x the product's kg), insurance by line amount,
      each share rounded half up to the cent and the rest on the largest weight / amount (the first line on a tie);
    - the exchange rate is the last PTAX sell published by the as-of date (`spot_rate`): the Siscomex rate of the
      clearance is not known yet, and one rate for both regimes isolates the effect of the tax rules;
    - the expected clearance date is the arrival (actual, else the shipment's ETA, else the order's expected
      arrival) plus `var('expected_clearance_lag_days')` calendar days, and never before the as-of date;
    - the destination state is the one of the latest declaration through the same customs unit, else the
      company's most frequent destination state (`destination_state_source`). -#}
{%- set lag_days = var('expected_clearance_lag_days') -%}

with

as_of as (

    select erp_as_of_date as as_of_date from {{ ref('int_treasury_data_as_of') }}

),

purchase_orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}
    where not is_deleted and status not in ('CANCELLED', 'RECEIVED', 'CLOSED')

),

order_lines as (

    -- keys renamed so that `pipeline_orders.*` keeps plain column names in the join
    select
        po_id as line_po_id,
        line_number,
        sku as line_sku,
        quantity,
        line_amount
    from {{ ref('stg_erp__purchase_order_lines') }}
    where not is_deleted

),

products as (

    select sku as product_sku, ncm, net_weight_kg from {{ ref('stg_erp__products') }}
    where not is_deleted

),

shipments as (

    -- the latest shipment of each order (the demo has one per order); Nullable before the LEFT JOIN, so an order
    -- without a shipment gets NULL, not '' or 0
    select
        po_id as shipment_po_id,
        cast(argMax(shipment_id, etd) as Nullable(String)) as shipment_id,
        cast(argMax(status, etd) as Nullable(String)) as shipment_status,
        cast(argMax(transport_mode, etd) as Nullable(String)) as shipment_transport_mode,
        cast(argMax(customs_unit, etd) as Nullable(String)) as customs_unit,
        cast(argMax(eta, etd) as Nullable(Date)) as eta,
        cast(argMax(actual_arrival, etd) as Nullable(Date)) as actual_arrival,
        cast(argMax(freight_amount, etd) as Nullable(Decimal(18, 4))) as freight_amount,
        cast(argMax(insurance_amount, etd) as Nullable(Decimal(18, 4))) as insurance_amount
    from {{ ref('stg_erp__shipments') }}
    where not is_deleted
    group by po_id

),

declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}
    where not is_deleted

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

spot as (

    select
        rates.currency as currency,
        cast(argMax(rates.ptax_sell, rates.date) as Nullable(Decimal(38, 8))) as spot_rate,
        cast(max(rates.date) as Nullable(Date)) as spot_rate_date
    from rates
    cross join as_of
    where rates.date <= as_of.as_of_date
    group by rates.currency

),

state_by_unit as (

    select
        customs_unit as unit_key,
        cast(argMax(destination_state, (registration_date, declaration_id)) as Nullable(String)) as state
    from declarations
    group by customs_unit

),

most_frequent_state as (

    select topK(1)(destination_state)[1] as state from declarations

),

pipeline_orders as (

    select
        purchase_orders.po_id as po_id,
        purchase_orders.supplier_id as supplier_id,
        purchase_orders.currency as currency,
        purchase_orders.status as po_status,
        shipments.shipment_id as shipment_id,
        multiIf(
            shipments.shipment_id is null, 'purchase_order',
            shipments.actual_arrival is not null, 'arrived',
            shipments.shipment_status = 'IN_TRANSIT', 'in_transit',
            'booked'
        ) as pipeline_stage,
        coalesce(shipments.shipment_id, purchase_orders.po_id) as declaration_key,
        coalesce(shipments.shipment_transport_mode, purchase_orders.transport_mode) as transport_mode,
        shipments.customs_unit as customs_unit,
        coalesce(shipments.actual_arrival, shipments.eta, purchase_orders.expected_arrival_date) as arrival_date,
        shipments.shipment_id is not null as is_freight_known,
        assumeNotNull(coalesce(shipments.freight_amount, toDecimal128(0, 4))) as freight_total,
        assumeNotNull(coalesce(shipments.insurance_amount, toDecimal128(0, 4))) as insurance_total
    from purchase_orders
    left join shipments on shipments.shipment_po_id = purchase_orders.po_id
    where shipments.shipment_id is null or shipments.shipment_id not in (select shipment_id from declarations)

),

lines as (

    select
        pipeline_orders.*,
        order_lines.line_number as line_number,
        order_lines.line_sku as sku,
        products.ncm as ncm,
        order_lines.quantity as quantity,
        order_lines.line_amount as line_amount,
        order_lines.quantity * products.net_weight_kg as line_weight_kg,
        row_number() over (
            partition by pipeline_orders.declaration_key
            order by order_lines.quantity * products.net_weight_kg desc, order_lines.line_number
        ) as weight_rank,
        row_number() over (
            partition by pipeline_orders.declaration_key order by order_lines.line_amount desc, order_lines.line_number
        ) as amount_rank,
        toUInt32(row_number() over (partition by pipeline_orders.declaration_key order by order_lines.line_number))
            as addition_number,
        sum(order_lines.quantity * products.net_weight_kg) over (partition by pipeline_orders.declaration_key)
            as weight_total,
        sum(order_lines.line_amount) over (partition by pipeline_orders.declaration_key) as amount_total
    from pipeline_orders
    inner join order_lines on order_lines.line_po_id = pipeline_orders.po_id
    inner join products on products.product_sku = order_lines.line_sku

),

shares as (

    select
        *,
        -- a zero total puts it all on the first line (no division by zero: the denominator itself is made safe)
        cast(
            if(
                weight_total = 0,
                cast(if(weight_rank = 1, freight_total, 0) as Decimal(38, 8)),
                cast(round(cast(freight_total as Decimal(38, 8)) * line_weight_kg / if(weight_total = 0, 1, weight_total), 2) as Decimal(38, 8))
            ) as Decimal(38, 8)
        ) as freight_rounded,
        cast(
            if(
                amount_total = 0,
                cast(if(amount_rank = 1, insurance_total, 0) as Decimal(38, 8)),
                cast(round(cast(insurance_total as Decimal(38, 8)) * line_amount / if(amount_total = 0, 1, amount_total), 2) as Decimal(38, 8))
            ) as Decimal(38, 8)
        ) as insurance_rounded
    from lines

),

allocated as (

    select
        *,
        freight_rounded
            + if(weight_rank = 1 and weight_total != 0, freight_total - sum(freight_rounded) over per_declaration, 0)
            as freight_amount,
        insurance_rounded
            + if(amount_rank = 1 and amount_total != 0, insurance_total - sum(insurance_rounded) over per_declaration, 0)
            as insurance_amount
    from shares
    window per_declaration as (partition by declaration_key)

),

final as (

    select
        allocated.declaration_key as declaration_key,
        allocated.po_id as po_id,
        cast(allocated.line_number as Int32) as line_number,
        allocated.shipment_id as shipment_id,
        allocated.pipeline_stage as pipeline_stage,
        allocated.po_status as po_status,
        allocated.supplier_id as supplier_id,
        allocated.sku as sku,
        allocated.ncm as ncm,
        allocated.quantity as quantity,
        allocated.currency as currency,
        allocated.transport_mode as transport_mode,
        allocated.customs_unit as customs_unit,
        allocated.addition_number as addition_number,
        allocated.line_amount as fob_amount,
        cast(allocated.freight_amount as Decimal(18, 4)) as freight_amount,
        cast(allocated.insurance_amount as Decimal(18, 4)) as insurance_amount,
        cast(allocated.line_amount + allocated.freight_amount + allocated.insurance_amount as Decimal(18, 4))
            as customs_value_amount,
        cast(allocated.freight_total as Decimal(18, 4)) as declaration_freight_amount,
        allocated.is_freight_known as is_freight_known,
        cast(spot.spot_rate as Nullable(Decimal(38, 8))) as spot_rate,
        cast(spot.spot_rate_date as Nullable(Date)) as spot_rate_date,
        cast(
            round(cast(allocated.line_amount + allocated.freight_amount + allocated.insurance_amount as Decimal(38, 4))
                * spot.spot_rate, 2)
            as Nullable(Decimal(18, 4))
        ) as customs_value_brl,
        allocated.arrival_date as arrival_date,
        greatest(allocated.arrival_date + {{ lag_days }}, as_of.as_of_date) as expected_clearance_date,
        as_of.as_of_date as as_of_date,
        coalesce(state_by_unit.state, (select state from most_frequent_state)) as destination_state,
        if(state_by_unit.state is null, 'company_most_frequent', 'customs_unit_history') as destination_state_source
    from allocated
    cross join as_of
    left join spot on spot.currency = allocated.currency
    left join state_by_unit on state_by_unit.unit_key = allocated.customs_unit

)

select * from final
