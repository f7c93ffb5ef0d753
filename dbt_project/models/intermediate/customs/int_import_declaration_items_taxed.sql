{{ config(order_by=['declaration_id', 'item_number']) }}
{#- One row per item of a declaration that is not deleted: customs value in the invoice currency and in BRL, and
    the taxes computed item by item, each rounded half up to the centavo as the declaration does (round() on
    Decimal rounds half away from zero, i.e. half up for these positive amounts):
    - customs value (valor aduaneiro) = FOB + international freight + insurance (Acordo de Valoração Aduaneira,
      Decreto 1.355/1994, art. 8.2; Regulamento Aduaneiro, Decreto 6.759/2009, art. 77), converted at the
      Siscomex rate (Decreto-Lei 37/1966, art. 24; Regulamento Aduaneiro, art. 97);
    - II = customs value x the NCM's II rate (Regulamento Aduaneiro, art. 75, I; rate from the TEC);
    - IPI = (customs value + II) x the NCM's IPI rate (RIPI, Decreto 7.212/2010, art. 190, I, b);
    - PIS/COFINS-Importação = customs value x rate (Lei 10.865/2004, art. 7, I and art. 8); the rate of the
      longest matching NCM prefix in the exceptions seed, else the general rate;
    - Siscomex fee per addition, by tier of the addition number (IN SRF 680/2006, art. 13): the ERP does not
      record additions, so each item counts as its own addition, numbered in item order;
    - from 2027 the IPI rate is the TIPI rate times the year's `ipi_rate_factor` (0 %: EC 132/2023, ADCT art. 126,
      III, a) and PIS/COFINS-Importação are 0 (tax_import_rules);
    - Imposto Seletivo = (customs value + II x `is_base_ii`) x the rate of the longest NCM prefix of
      tax_selective_ncm_rates in force on the clearance date (the CBS/IBS event); 0 for an NCM outside it, NULL
      where the rate is not known yet.
    Rates are those in force on the registration date (int_import_declarations_rated) unless said otherwise. -#}
with

items as (

    -- the ERP's own tax amounts get an erp_ prefix here, so no computed column can shadow them
    select
        declaration_id,
        item_number,
        po_id,
        po_line_number,
        sku,
        ncm,
        quantity,
        net_weight_kg,
        fob_amount,
        freight_amount,
        insurance_amount,
        customs_value_brl as erp_customs_value_brl,
        ii_brl as erp_ii_brl,
        ipi_brl as erp_ipi_brl,
        pis_brl as erp_pis_brl,
        cofins_brl as erp_cofins_brl,
        icms_brl as erp_icms_brl
    from {{ ref('stg_erp__import_declaration_items') }}
    where not is_deleted

),

declarations as (

    -- only what the items need, the key renamed so that `items.*` keeps plain column names in the join
    select
        declaration_id as declaration_key,
        registration_date,
        siscomex_rate,
        general_pis_rate_pct,
        general_cofins_rate_pct,
        icms_rate_date as clearance_rules_date,
        ipi_rate_factor,
        is_base_ii
    from {{ ref('int_import_declarations_rated') }}

),

purchase_orders as (

    -- Nullable before the LEFT JOIN, so an item whose order is missing gets NULL, not ''
    select
        po_id as po_key,
        cast(supplier_id as Nullable(String)) as supplier_id
    from {{ ref('stg_erp__purchase_orders') }}
    where not is_deleted

),

declared_items as (

    -- items of declarations that are not deleted, numbered as additions (1, 2, ... in item order)
    select
        items.*,
        declarations.registration_date as registration_date,
        declarations.siscomex_rate as siscomex_rate,
        declarations.general_pis_rate_pct as general_pis_rate_pct,
        declarations.general_cofins_rate_pct as general_cofins_rate_pct,
        declarations.clearance_rules_date as clearance_rules_date,
        declarations.ipi_rate_factor as ipi_rate_factor,
        declarations.is_base_ii as is_base_ii,
        purchase_orders.supplier_id as supplier_id,
        toUInt32(row_number() over (partition by items.declaration_id order by items.item_number)) as addition_number
    from items
    inner join declarations on declarations.declaration_key = items.declaration_id
    left join purchase_orders on purchase_orders.po_key = items.po_id

),

ncm_matched as (

    select
        declared_items.declaration_id as declaration_key,
        declared_items.item_number as item_key,
        cast(ncm_rates.ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ncm_rates.ipi_rate_pct as Nullable(Decimal(38, 8))) as ipi_rate_pct,
        cast(ncm_rates.legal_source as Nullable(String)) as ncm_legal_source
    {{ rates_in_force('declared_items', 'registration_date', 'stg_reference__tax_ncm_rates', 'ncm_rates', match=('ncm', 'ncm')) }}

),

exceptions_matched as (

    -- the longest NCM prefix in force wins
    {{ ncm_prefix_rate_in_force(
        'declared_items', {'declaration_key': 'declaration_id', 'item_key': 'item_number'}, 'registration_date',
        'stg_reference__tax_pis_cofins_ncm_exceptions', 'pis_cofins_exceptions', [
            'cast(pis_cofins_exceptions.pis_rate_pct as Nullable(Decimal(38, 8))) as pis_rate_pct',
            'cast(pis_cofins_exceptions.cofins_rate_pct as Nullable(Decimal(38, 8))) as cofins_rate_pct',
            'cast(pis_cofins_exceptions.legal_source as Nullable(String)) as legal_source',
        ],
    ) }}

),

selective_matched as (

    -- the longest NCM prefix subject to the Imposto Seletivo on the clearance date; no row = outside the IS
    {{ ncm_prefix_rate_in_force(
        'declared_items', {'declaration_key': 'declaration_id', 'item_key': 'item_number'}, 'clearance_rules_date',
        'stg_reference__tax_selective_ncm_rates', 'selective_rates', [
            'cast(selective_rates.is_rate_pct as Nullable(Decimal(38, 8))) as is_rate_pct',
            'cast(selective_rates.legal_source as Nullable(String)) as legal_source',
        ],
    ) }}

),

addition_fees as (

    select
        declared_items.declaration_id as declaration_key,
        declared_items.item_number as item_key,
        cast(import_rules.value as Nullable(Decimal(38, 8))) as siscomex_addition_fee_brl
    {{ rates_in_force('declared_items', 'registration_date', 'stg_reference__tax_import_rules', 'import_rules') }}
        and import_rules.rule = 'SISCOMEX_FEE_ADDITION'
        and declared_items.addition_number >= import_rules.tier_from
        and (import_rules.tier_to is null or declared_items.addition_number <= import_rules.tier_to)

),

rated as (

    select
        declared_items.*,
        ncm_matched.ii_rate_pct as ii_rate_pct,
        -- the TIPI rate times the share of it that applies (100 % until 2026; exact)
        cast(ncm_matched.ipi_rate_pct * declared_items.ipi_rate_factor / 100 as Nullable(Decimal(38, 8))) as ipi_rate_pct,
        ncm_matched.ncm_legal_source as ncm_legal_source,
        -- the exception, if any, replaces both rates
        if(exceptions_matched.legal_source is null, declared_items.general_pis_rate_pct, exceptions_matched.pis_rate_pct)
            as pis_rate_pct,
        if(
            exceptions_matched.legal_source is null,
            declared_items.general_cofins_rate_pct,
            exceptions_matched.cofins_rate_pct
        ) as cofins_rate_pct,
        exceptions_matched.legal_source as pis_cofins_exception_legal_source,
        addition_fees.siscomex_addition_fee_brl as siscomex_addition_fee_brl,
        if(selective_matched.legal_source is null, toNullable(toDecimal128(0, 8)), selective_matched.is_rate_pct)
            as is_rate_pct,
        selective_matched.legal_source as is_legal_source
    from declared_items
    left join ncm_matched
        on ncm_matched.declaration_key = declared_items.declaration_id
        and ncm_matched.item_key = declared_items.item_number
    left join exceptions_matched
        on exceptions_matched.declaration_key = declared_items.declaration_id
        and exceptions_matched.item_key = declared_items.item_number
    left join addition_fees
        on addition_fees.declaration_key = declared_items.declaration_id
        and addition_fees.item_key = declared_items.item_number
    left join selective_matched
        on selective_matched.declaration_key = declared_items.declaration_id
        and selective_matched.item_key = declared_items.item_number

),

valued as (

    select
        *,
        fob_amount + freight_amount + insurance_amount as customs_value_amount,
        round(customs_value_amount * siscomex_rate, 2) as customs_value_brl_calc
    from rated

),

taxed as (

    select
        *,
        {{ import_item_taxes('customs_value_brl_calc', suffix='_calc') }}
    from valued

),

final as (

    select
        {{ import_item_columns() | join(',\n        ') }},
        cast(customs_value_amount as Decimal(18, 4)) as customs_value_amount,
        cast(customs_value_brl_calc as Nullable(Decimal(18, 4))) as customs_value_brl,
        cast(ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ii_brl_calc as Nullable(Decimal(18, 4))) as ii_brl,
        cast(ipi_rate_pct as Nullable(Decimal(38, 8))) as ipi_rate_pct,
        cast(ipi_brl_calc as Nullable(Decimal(18, 4))) as ipi_brl,
        cast(pis_rate_pct as Nullable(Decimal(38, 8))) as pis_rate_pct,
        cast(pis_brl_calc as Nullable(Decimal(18, 4))) as pis_brl,
        cast(cofins_rate_pct as Nullable(Decimal(38, 8))) as cofins_rate_pct,
        cast(cofins_brl_calc as Nullable(Decimal(18, 4))) as cofins_brl,
        cast(siscomex_addition_fee_brl as Nullable(Decimal(18, 4))) as siscomex_addition_fee_brl,
        cast(is_rate_pct as Nullable(Decimal(38, 8))) as is_rate_pct,
        cast(is_brl_calc as Nullable(Decimal(18, 4))) as is_brl,
        cast(is_legal_source as Nullable(String)) as is_legal_source,
        cast(ncm_legal_source as Nullable(String)) as ncm_legal_source,
        cast(pis_cofins_exception_legal_source as Nullable(String)) as pis_cofins_exception_legal_source,
        -- what the ERP recorded for this item
        erp_customs_value_brl,
        erp_ii_brl,
        erp_ipi_brl,
        erp_pis_brl,
        erp_cofins_brl,
        erp_icms_brl
    from taxed

)

select * from final
