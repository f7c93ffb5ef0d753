{{ config(order_by=['sku', 'month'], partition_by='toYear(month)') }}

{#- One row per product (sku) and calendar month with sales: revenue net of the taxes included in the price, the
    cost of the goods sold at the SKU's average landed cost net of recoverable credits (from
    fct_import_landed_cost, not the ERP's inventory cost), the gross margin, and the ERP's cost for comparison
    (README.md). -#}
with

sales as (

    select * from {{ ref('int_product_sales_monthly') }}

),

landed_costs as (

    select * from {{ ref('fct_import_landed_cost') }}

),

cleared_purchases as (

    -- landed cost net of the IPI/PIS/COFINS/ICMS credits of the items nationalised (cleared) each month
    select
        sku,
        toStartOfMonth(assumeNotNull(clearance_date)) as month,
        sum(landed_cost_net_of_credits_brl) as landed_cost_brl,
        sum(quantity) as quantity
    from landed_costs
    where clearance_date is not null and landed_cost_net_of_credits_brl is not null
    group by sku, month

),

sku_months as (

    select sku, month from sales
    union distinct
    select sku, month from cleared_purchases

),

cumulative_cost as (

    -- weighted average landed cost per unit of everything cleared up to the end of each month
    select
        sku_months.sku as sku,
        sku_months.month as month,
        sum(coalesce(cleared_purchases.landed_cost_brl, 0)) over to_date as cumulative_landed_cost_brl,
        sum(coalesce(cleared_purchases.quantity, 0)) over to_date as cumulative_quantity
    from sku_months
    left join (
        select
            sku,
            month,
            toNullable(landed_cost_brl) as landed_cost_brl,
            toNullable(quantity) as quantity
        from cleared_purchases
    ) as cleared_purchases
        on cleared_purchases.sku = sku_months.sku and cleared_purchases.month = sku_months.month
    window to_date as (
        partition by sku_months.sku order by sku_months.month rows between unbounded preceding and current row
    )

),

costed as (

    select
        sales.*,
        toDecimal128(cumulative_cost.cumulative_landed_cost_brl, 12)
            / nullIf(cumulative_cost.cumulative_quantity, 0) as average_landed_cost_per_unit_brl
    from sales
    inner join cumulative_cost on cumulative_cost.sku = sales.sku and cumulative_cost.month = sales.month

),

margins as (

    select
        *,
        icms_brl + pis_brl + cofins_brl as sales_taxes_brl,
        gross_revenue_brl - icms_brl - pis_brl - cofins_brl as net_revenue_brl,
        round(quantity_sold * average_landed_cost_per_unit_brl, 4) as cost_of_goods_sold_brl
    from costed

),

final as (

    select
        cast(sku as String) as sku,
        cast(month as Date) as month,
        cast(invoice_count as UInt32) as invoice_count,
        cast(quantity_sold as Decimal(18, 4)) as quantity_sold,
        cast(gross_revenue_brl as Decimal(18, 4)) as gross_revenue_brl,
        cast(icms_brl as Decimal(18, 4)) as icms_brl,
        cast(pis_brl as Decimal(18, 4)) as pis_brl,
        cast(cofins_brl as Decimal(18, 4)) as cofins_brl,
        cast(sales_taxes_brl as Decimal(18, 4)) as sales_taxes_brl,
        cast(net_revenue_brl as Decimal(18, 4)) as net_revenue_brl,
        cast(ipi_brl as Decimal(18, 4)) as ipi_brl,
        cast(round(average_landed_cost_per_unit_brl, 8) as Nullable(Decimal(38, 8))) as average_landed_cost_per_unit_brl,
        cast(cost_of_goods_sold_brl as Nullable(Decimal(18, 4))) as cost_of_goods_sold_brl,
        cast(net_revenue_brl - cost_of_goods_sold_brl as Nullable(Decimal(18, 4))) as gross_margin_brl,
        cast(
            round(toDecimal128(net_revenue_brl - cost_of_goods_sold_brl, 12) * 100 / nullIf(net_revenue_brl, 0), 8)
            as Nullable(Decimal(38, 8))
        ) as gross_margin_pct,
        cast(round(erp_cost_of_goods_sold_brl, 4) as Nullable(Decimal(18, 4))) as erp_cost_of_goods_sold_brl,
        cast(invoices_without_erp_cost as UInt32) as invoices_without_erp_cost
    from margins

)

select * from final
