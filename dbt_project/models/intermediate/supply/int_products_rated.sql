{{ config(order_by=['ncm', 'sku']) }}
{#- One row per product (sku; soft-deleted ones kept and flagged) with the import tax rates of its NCM in force on
    the supply as-of date (int_purchase_orders_delivered.as_of_date): II (TEC) and IPI (TIPI) from the NCM seed,
    PIS/COFINS-Importação from the NCM exception with the longest matching prefix, else the general rates. A rate
    with no seed row for that date stays NULL (nothing is guessed). -#}
with

products as (

    select * from {{ ref('stg_erp__products') }}

),

orders as (

    select * from {{ ref('int_purchase_orders_delivered') }}

),

as_of as (

    select max(as_of_date) as as_of_date from orders

),

dated_products as (

    select
        products.sku as sku,
        products.product_description as product_description,
        products.ncm as ncm,
        products.unit as unit,
        products.net_weight_kg as net_weight_kg,
        products.is_deleted as is_deleted,
        as_of.as_of_date as rates_as_of_date
    from products
    cross join as_of

),

ncm_in_force as (

    select
        dated_products.sku as sku_key,
        ncm_rates.ii_rate_pct as ii_rate_pct,
        ncm_rates.ipi_rate_pct as ipi_rate_pct,
        ncm_rates.legal_source as ncm_legal_source
    {{ rates_in_force('dated_products', 'rates_as_of_date', 'stg_reference__tax_ncm_rates', 'ncm_rates', match=('ncm', 'ncm')) }}

),

exception_in_force as (

    -- the longest NCM prefix in force wins
    {{ ncm_prefix_rate_in_force(
        'dated_products', {'sku_key': 'sku'}, 'rates_as_of_date',
        'stg_reference__tax_pis_cofins_ncm_exceptions', 'pis_cofins_exceptions', [
            'pis_cofins_exceptions.pis_rate_pct as pis_rate_pct',
            'pis_cofins_exceptions.cofins_rate_pct as cofins_rate_pct',
            'pis_cofins_exceptions.legal_source as legal_source',
        ],
    ) }}

),

general_rules_in_force as (

    select
        anyIf(import_rules.value, import_rules.rule = 'PIS_IMPORTACAO') as general_pis_rate_pct,
        anyIf(import_rules.legal_source, import_rules.rule = 'PIS_IMPORTACAO') as general_pis_legal_source,
        anyIf(import_rules.value, import_rules.rule = 'COFINS_IMPORTACAO') as general_cofins_rate_pct,
        countIf(import_rules.rule = 'PIS_IMPORTACAO') as pis_rules,
        countIf(import_rules.rule = 'COFINS_IMPORTACAO') as cofins_rules
    {{ rates_in_force('as_of', 'as_of_date', 'stg_reference__tax_import_rules', 'import_rules') }}
        and import_rules.rule in ('PIS_IMPORTACAO', 'COFINS_IMPORTACAO')

),

final as (

    select
        dated_products.*,
        ncm_in_force.ii_rate_pct as ii_rate_pct,
        ncm_in_force.ipi_rate_pct as ipi_rate_pct,
        coalesce(
            exception_in_force.pis_rate_pct,
            if(general_rules_in_force.pis_rules = 1, general_rules_in_force.general_pis_rate_pct, null)
        ) as pis_import_rate_pct,
        coalesce(
            exception_in_force.cofins_rate_pct,
            if(general_rules_in_force.cofins_rules = 1, general_rules_in_force.general_cofins_rate_pct, null)
        ) as cofins_import_rate_pct,
        ncm_in_force.ncm_legal_source as ncm_legal_source,
        coalesce(
            exception_in_force.legal_source,
            if(general_rules_in_force.pis_rules = 1, general_rules_in_force.general_pis_legal_source, null)
        ) as pis_cofins_legal_source
    from dated_products
    cross join general_rules_in_force
    left join (
        select
            sku_key,
            toNullable(ii_rate_pct) as ii_rate_pct,
            toNullable(ipi_rate_pct) as ipi_rate_pct,
            toNullable(ncm_legal_source) as ncm_legal_source
        from ncm_in_force
    ) as ncm_in_force on ncm_in_force.sku_key = dated_products.sku
    left join (
        select
            sku_key,
            toNullable(pis_rate_pct) as pis_rate_pct,
            toNullable(cofins_rate_pct) as cofins_rate_pct,
            toNullable(legal_source) as legal_source
        from exception_in_force
    ) as exception_in_force on exception_in_force.sku_key = dated_products.sku

)

select * from final
