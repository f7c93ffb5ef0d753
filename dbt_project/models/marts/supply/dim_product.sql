{{ config(order_by=['sku']) }}

{#- One row per product: master data, the import tax rates of its NCM in force on the as-of date, and how many
    suppliers it was bought from, with the HHI of its spend across them (README.md). -#}
with

products as (

    select * from {{ ref('int_products_rated') }}

),

supplier_skus as (

    select * from {{ ref('int_supplier_skus_aggregated') }}

),

sourcing as (

    select
        sku,
        count() as supplier_count,
        sum(quantity) as purchased_quantity,
        sum(fob_brl) as purchased_fob_brl,
        -- Herfindahl-Hirschman index of the SKU's spend across its suppliers: the sum of the squared shares in
        -- percent, 10000 for a single source, 10000 / n for n equal sources
        sum(sku_spend_share_pct * sku_spend_share_pct) as supplier_hhi,
        -- the supplier with the largest share of the SKU's spend (ties: the smallest supplier_id)
        argMin(supplier_id, (-sku_spend_share_pct, supplier_id)) as main_supplier_id,
        max(sku_spend_share_pct) as main_supplier_share_pct
    from supplier_skus
    group by sku

),

joined as (

    select
        products.*,
        coalesce(sourcing.supplier_count, 0) as supplier_count,
        coalesce(sourcing.purchased_quantity, 0) as purchased_quantity,
        coalesce(sourcing.purchased_fob_brl, 0) as purchased_fob_brl,
        sourcing.supplier_hhi as supplier_hhi,
        sourcing.main_supplier_id as main_supplier_id,
        sourcing.main_supplier_share_pct as main_supplier_share_pct
    from products
    left join (
        select
            sku,
            toNullable(supplier_count) as supplier_count,
            toNullable(purchased_quantity) as purchased_quantity,
            purchased_fob_brl,
            supplier_hhi,
            toNullable(main_supplier_id) as main_supplier_id,
            main_supplier_share_pct
        from sourcing
    ) as sourcing on sourcing.sku = products.sku

),

final as (

    select
        cast(sku as String) as sku,
        cast(product_description as String) as product_description,
        cast(ncm as LowCardinality(String)) as ncm,
        cast(unit as LowCardinality(String)) as unit,
        cast(net_weight_kg as Decimal(18, 4)) as net_weight_kg,
        cast(is_deleted as Bool) as is_deleted,
        cast(rates_as_of_date as Date) as rates_as_of_date,
        cast(ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ipi_rate_pct as Nullable(Decimal(38, 8))) as ipi_rate_pct,
        cast(pis_import_rate_pct as Nullable(Decimal(38, 8))) as pis_import_rate_pct,
        cast(cofins_import_rate_pct as Nullable(Decimal(38, 8))) as cofins_import_rate_pct,
        cast(ncm_legal_source as Nullable(String)) as ncm_legal_source,
        cast(pis_cofins_legal_source as Nullable(String)) as pis_cofins_legal_source,
        cast(supplier_count as UInt32) as supplier_count,
        cast(supplier_count = 1 as Bool) as is_single_sourced,
        cast(main_supplier_id as Nullable(String)) as main_supplier_id,
        cast(round(main_supplier_share_pct, 8) as Nullable(Decimal(38, 8))) as main_supplier_share_pct,
        cast(round(supplier_hhi, 8) as Nullable(Decimal(38, 8))) as supplier_hhi,
        cast(purchased_quantity as Decimal(18, 4)) as purchased_quantity,
        cast(purchased_fob_brl as Decimal(18, 4)) as purchased_fob_brl
    from joined

)

select * from final
