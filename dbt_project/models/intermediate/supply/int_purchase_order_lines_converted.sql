{{ config(order_by=['currency', 'po_id', 'line_number']) }}
{#- One row per purchase order line of a live purchase order (not soft-deleted, not CANCELLED), with the order's
    supplier, date and currency, its value in BRL at the PTAX selling rate of the order date, and the unit price
    the same supplier charged for the same SKU on its previous order. -#}
with

orders as (

    select * from {{ ref('stg_erp__purchase_orders') }}

),

order_lines as (

    select * from {{ ref('stg_erp__purchase_order_lines') }}

),

rates as (

    select * from {{ ref('int_fx_closing_rates_unioned') }}

),

live_orders as (

    select
        po_id,
        supplier_id,
        order_date,
        currency
    from orders
    where not is_deleted and status != 'CANCELLED'

),

live_lines as (

    select
        order_lines.po_id as po_id,
        order_lines.line_number as line_number,
        order_lines.sku as sku,
        live_orders.supplier_id as supplier_id,
        live_orders.order_date as order_date,
        live_orders.currency as currency,
        order_lines.quantity as quantity,
        order_lines.unit_price as unit_price,
        order_lines.line_amount as line_amount
    from order_lines
    inner join live_orders on live_orders.po_id = order_lines.po_id
    where not order_lines.is_deleted

),

public_rates as (

    -- Nullable on the right side, so an order with no rate on or before its date gets NULL from the ASOF join
    select
        currency,
        quote_date,
        toNullable(quote_date) as quoted_date,
        toNullable(sell) as quoted_sell
    from rates

),

with_rate as (

    -- the PTAX sell of the order date; on a day without a quote, the latest earlier one (ASOF)
    select
        live_lines.*,
        if(live_lines.currency = 'BRL', live_lines.order_date, public_rates.quoted_date) as rate_date,
        if(live_lines.currency = 'BRL', toNullable(toDecimal128(1, 15)), public_rates.quoted_sell) as ptax_sell
    from live_lines
    asof left join public_rates
        on public_rates.currency = live_lines.currency
        and live_lines.order_date >= public_rates.quote_date

),

converted as (

    select
        *,
        cast(round(line_amount * ptax_sell, 4) as Nullable(Decimal(18, 4))) as line_amount_brl,
        cast(round(unit_price * ptax_sell, 4) as Nullable(Decimal(18, 4))) as unit_price_brl
    from with_rate

),

final as (

    select
        *,
        -- the same supplier's unit price for this SKU on its previous live order (in the order currency)
        lagInFrame(toNullable(unit_price)) over previous_purchase as previous_unit_price,
        lagInFrame(toNullable(order_date)) over previous_purchase as previous_order_date
    from converted
    window previous_purchase as (
        partition by supplier_id, sku order by order_date, po_id, line_number
        rows between 1 preceding and current row
    )

)

select * from final
