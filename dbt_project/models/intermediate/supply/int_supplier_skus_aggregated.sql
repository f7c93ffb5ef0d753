{{ config(order_by=['supplier_id', 'sku']) }}
{#- One row per supplier and SKU it was ordered from it on live purchase orders: quantity, value in BRL, the
    supplier's average unit price in BRL against the SKU's average across all its suppliers, and the SKU's share
    of this supplier in its spend (README.md). -#}
with

order_lines as (

    select * from {{ ref('int_purchase_order_lines_converted') }}

),

supplier_skus as (

    select
        supplier_id,
        sku,
        count() as line_count,
        sum(quantity) as quantity,
        sum(line_amount_brl) as fob_brl
    from order_lines
    group by supplier_id, sku

),

skus as (

    select
        sku,
        count() as supplier_count,
        sum(quantity) as sku_quantity,
        sum(fob_brl) as sku_fob_brl
    from supplier_skus
    group by sku

),

compared as (

    select
        supplier_skus.supplier_id as supplier_id,
        supplier_skus.sku as sku,
        supplier_skus.line_count as line_count,
        supplier_skus.quantity as quantity,
        supplier_skus.fob_brl as fob_brl,
        skus.supplier_count as sku_supplier_count,
        skus.sku_fob_brl as sku_fob_brl,
        -- quantity-weighted average unit prices in BRL (at each order's PTAX): this supplier's, and the SKU's
        -- across all its suppliers (this one included)
        toDecimal128(supplier_skus.fob_brl, 12) / supplier_skus.quantity as avg_unit_price_brl,
        toDecimal128(skus.sku_fob_brl, 12) / skus.sku_quantity as sku_avg_unit_price_brl,
        -- this supplier's share of the SKU's spend, in percent
        toDecimal128(supplier_skus.fob_brl, 12) * 100 / nullIf(skus.sku_fob_brl, 0) as sku_spend_share_pct
    from supplier_skus
    inner join skus on skus.sku = supplier_skus.sku

),

final as (

    select
        *,
        -- price variance: how much more (+) or less (-) this supplier charged than the SKU's all-supplier average,
        -- in percent (12 decimals, truncated); 0 for a single-sourced SKU
        (avg_unit_price_brl - sku_avg_unit_price_brl) * 100 / nullIf(sku_avg_unit_price_brl, 0) as price_variance_pct
    from compared

)

select * from final
