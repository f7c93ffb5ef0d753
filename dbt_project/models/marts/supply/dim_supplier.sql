{{ config(order_by=['supplier_id']) }}

{#- One row per supplier: master data, purchasing, delivery and price performance over all live purchase orders,
    and its share and rank in total spend (README.md, metric definitions in _supply__models.yml). -#}
with

suppliers as (

    select * from {{ ref('int_suppliers_aggregated') }}

),

shares as (

    select
        *,
        -- share of spend: this supplier's FOB in BRL (PTAX sell of each order date) over all suppliers' FOB
        toDecimal128(fob_brl, 12) * 100 / nullIf(sum(fob_brl) over (), 0) as share_of_spend_pct
    from suppliers

),

ranked as (

    select
        *,
        -- rank by spend among suppliers with spend (1 = largest; ties broken by supplier_id)
        if(fob_brl > 0, row_number() over by_spend, null) as spend_rank,
        if(fob_brl > 0, sum(share_of_spend_pct) over by_spend, null) as cumulative_spend_share_pct
    from shares
    window by_spend as (
        order by fob_brl > 0 desc, fob_brl desc, supplier_id
        rows between unbounded preceding and current row
    )

),

final as (

    select
        cast(supplier_id as String) as supplier_id,
        cast(supplier_name as String) as supplier_name,
        cast(country as LowCardinality(String)) as country,
        cast(currency as LowCardinality(String)) as currency,
        cast(tax_id_type as LowCardinality(String)) as tax_id_type,
        cast(payment_terms_days as Int32) as payment_terms_days,
        cast(is_deleted as Bool) as is_deleted,
        cast(purchase_order_count as UInt32) as purchase_order_count,
        cast(first_order_date as Nullable(Date)) as first_order_date,
        cast(last_order_date as Nullable(Date)) as last_order_date,
        cast(fob_amount as Decimal(18, 4)) as fob_amount,
        cast(fob_brl as Decimal(18, 4)) as fob_brl,
        cast(round(share_of_spend_pct, 8) as Decimal(38, 8)) as share_of_spend_pct,
        cast(spend_rank as Nullable(UInt32)) as spend_rank,
        cast(round(cumulative_spend_share_pct, 8) as Nullable(Decimal(38, 8))) as cumulative_spend_share_pct,
        -- ABC class by the share of the suppliers ranked above: A while it is under 80 %, B under 95 %, else C
        cast(
            multiIf(
                spend_rank is null, null,
                cumulative_spend_share_pct - share_of_spend_pct < 80, 'A',
                cumulative_spend_share_pct - share_of_spend_pct < 95, 'B',
                'C'
            ) as LowCardinality(Nullable(String))
        ) as spend_class,
        cast(sku_count as UInt32) as sku_count,
        cast(single_sourced_sku_count as UInt32) as single_sourced_sku_count,
        cast(measured_order_count as UInt32) as measured_order_count,
        cast(on_time_order_count as UInt32) as on_time_order_count,
        cast(round(on_time_rate_pct, 8) as Nullable(Decimal(38, 8))) as on_time_rate_pct,
        cast(arrived_order_count as UInt32) as arrived_order_count,
        cast(round(avg_arrival_delay_days, 2) as Nullable(Decimal(18, 2))) as avg_arrival_delay_days,
        cast(received_order_count as UInt32) as received_order_count,
        cast(round(avg_lead_time_days, 2) as Nullable(Decimal(18, 2))) as avg_lead_time_days,
        cast(max_lead_time_days as Nullable(Int32)) as max_lead_time_days,
        cast(round(price_variance_vs_market_pct, 8) as Nullable(Decimal(38, 8))) as price_variance_vs_market_pct,
        cast(round(price_change_vs_previous_pct, 8) as Nullable(Decimal(38, 8))) as price_change_vs_previous_pct,
        cast(as_of_date as Date) as as_of_date
    from ranked

)

select * from final
