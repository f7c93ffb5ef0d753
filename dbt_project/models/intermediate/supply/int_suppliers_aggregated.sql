{{ config(order_by=['supplier_id']) }}
{#- One row per supplier (soft-deleted ones kept and flagged): its master data and its purchasing, delivery and
    price figures over all live purchase orders (README.md). Shares across suppliers are the mart's job. -#}
with

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

order_lines as (

    select * from {{ ref('int_purchase_order_lines_converted') }}

),

orders as (

    select * from {{ ref('int_purchase_orders_delivered') }}

),

supplier_skus as (

    select * from {{ ref('int_supplier_skus_aggregated') }}

),

as_of as (

    select max(as_of_date) as as_of_date from orders

),

spend as (

    select
        supplier_id,
        sum(line_amount) as fob_amount,
        sum(line_amount_brl) as fob_brl,
        -- price change against the supplier's previous order of the same SKU, in its own currency (no FX
        -- effect): the mean over the lines that have a previous order
        sumIf((toDecimal128(unit_price, 12) - previous_unit_price) * 100 / previous_unit_price, previous_unit_price > 0)
            / nullIf(countIf(previous_unit_price > 0), 0) as price_change_vs_previous_pct
    from order_lines
    group by supplier_id

),

delivery as (

    select
        supplier_id,
        count() as purchase_order_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        countIf(is_on_time is not null) as measured_order_count,
        countIf(is_on_time) as on_time_order_count,
        countIf(arrival_date is not null) as arrived_order_count,
        sumIf(arrival_delay_days, arrival_date is not null) as arrival_delay_days_sum,
        countIf(lead_time_days is not null) as received_order_count,
        sumIf(lead_time_days, lead_time_days is not null) as lead_time_days_sum,
        maxIf(lead_time_days, lead_time_days is not null) as max_lead_time_days
    from orders
    group by supplier_id

),

prices as (

    select
        supplier_id,
        count() as sku_count,
        countIf(sku_supplier_count = 1) as single_sourced_sku_count,
        -- price variance against the market: each SKU's variance weighted by this supplier's BRL spend on it
        sum(price_variance_pct * fob_brl) / nullIf(sum(fob_brl), 0) as price_variance_vs_market_pct
    from supplier_skus
    group by supplier_id

),

joined as (

    select
        suppliers.supplier_id as supplier_id,
        suppliers.supplier_name as supplier_name,
        suppliers.country as country,
        suppliers.currency as currency,
        suppliers.tax_id_type as tax_id_type,
        suppliers.payment_terms_days as payment_terms_days,
        suppliers.is_deleted as is_deleted,
        coalesce(delivery.purchase_order_count, 0) as purchase_order_count,
        delivery.first_order_date as first_order_date,
        delivery.last_order_date as last_order_date,
        coalesce(spend.fob_amount, 0) as fob_amount,
        coalesce(spend.fob_brl, 0) as fob_brl,
        coalesce(prices.sku_count, 0) as sku_count,
        coalesce(prices.single_sourced_sku_count, 0) as single_sourced_sku_count,
        coalesce(delivery.measured_order_count, 0) as measured_order_count,
        coalesce(delivery.on_time_order_count, 0) as on_time_order_count,
        coalesce(delivery.arrived_order_count, 0) as arrived_order_count,
        delivery.arrival_delay_days_sum as arrival_delay_days_sum,
        coalesce(delivery.received_order_count, 0) as received_order_count,
        delivery.lead_time_days_sum as lead_time_days_sum,
        delivery.max_lead_time_days as max_lead_time_days,
        prices.price_variance_vs_market_pct as price_variance_vs_market_pct,
        spend.price_change_vs_previous_pct as price_change_vs_previous_pct,
        as_of.as_of_date as as_of_date
    from suppliers
    cross join as_of
    left join (
        select
            supplier_id,
            toNullable(fob_amount) as fob_amount,
            fob_brl,
            price_change_vs_previous_pct
        from spend
    ) as spend on spend.supplier_id = suppliers.supplier_id
    left join (
        select
            supplier_id,
            toNullable(purchase_order_count) as purchase_order_count,
            toNullable(first_order_date) as first_order_date,
            toNullable(last_order_date) as last_order_date,
            toNullable(measured_order_count) as measured_order_count,
            toNullable(on_time_order_count) as on_time_order_count,
            toNullable(arrived_order_count) as arrived_order_count,
            toNullable(arrival_delay_days_sum) as arrival_delay_days_sum,
            toNullable(received_order_count) as received_order_count,
            toNullable(lead_time_days_sum) as lead_time_days_sum,
            max_lead_time_days
        from delivery
    ) as delivery on delivery.supplier_id = suppliers.supplier_id
    left join (
        select
            supplier_id,
            toNullable(sku_count) as sku_count,
            toNullable(single_sourced_sku_count) as single_sourced_sku_count,
            price_variance_vs_market_pct
        from prices
    ) as prices on prices.supplier_id = suppliers.supplier_id

),

final as (

    select
        *,
        -- on-time rate: orders on time / orders measurable (arrived, or past their promised date), in percent
        toDecimal128(on_time_order_count, 12) * 100 / nullIf(measured_order_count, 0) as on_time_rate_pct,
        toDecimal128(arrival_delay_days_sum, 12) / nullIf(arrived_order_count, 0) as avg_arrival_delay_days,
        toDecimal128(lead_time_days_sum, 12) / nullIf(received_order_count, 0) as avg_lead_time_days
    from joined

)

select * from final
