{{ config(order_by=['sku', 'month']) }}
{#- One row per product (sku) and calendar month with an issued sales invoice: quantity sold, product value and
    the taxes on each NF-e as the ERP issued them, and the cost of those goods as the ERP's stock issues carried
    it. Cancelled and soft-deleted invoices are left out. -#}
with

invoices as (

    select * from {{ ref('stg_erp__sales_invoices') }}

),

movements as (

    select * from {{ ref('stg_erp__inventory_movements') }}

),

issued as (

    select
        invoice_id,
        sku,
        toStartOfMonth(issue_date) as month,
        quantity,
        gross_amount_brl,
        icms_brl,
        ipi_brl,
        pis_brl,
        cofins_brl
    from invoices
    where not is_deleted and status = 'ISSUED'

),

erp_costs as (

    -- the ERP's cost of each invoice: its stock issue movements, quantity x the lot's unit cost
    select
        reference_id as invoice_id,
        sum(quantity * unit_cost_brl) as erp_cost_brl
    from movements
    where not is_deleted and movement_type = 'ISSUE' and reference_type = 'SALES_INVOICE'
    group by reference_id

),

monthly as (

    select
        issued.sku as sku,
        issued.month as month,
        count() as invoice_count,
        sum(issued.quantity) as quantity_sold,
        sum(issued.gross_amount_brl) as gross_revenue_brl,
        sum(issued.icms_brl) as icms_brl,
        sum(issued.pis_brl) as pis_brl,
        sum(issued.cofins_brl) as cofins_brl,
        sum(issued.ipi_brl) as ipi_brl,
        sum(erp_costs.erp_cost_brl) as erp_cost_of_goods_sold_brl,
        countIf(erp_costs.erp_cost_brl is null) as invoices_without_erp_cost
    from issued
    left join (select invoice_id, toNullable(erp_cost_brl) as erp_cost_brl from erp_costs) as erp_costs
        on erp_costs.invoice_id = issued.invoice_id
    group by issued.sku, issued.month

),

final as (

    select * from monthly

)

select * from final
