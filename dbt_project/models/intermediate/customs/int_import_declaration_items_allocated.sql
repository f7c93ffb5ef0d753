{{ config(order_by=['declaration_id', 'item_number']) }}
{#- One row per declaration item: the declaration's fees allocated to its items, then ICMS. The items' figures are
    those int_import_declaration_items_sourced chose (the official declaration's where it wins over the ERP's copy);
    so is the Siscomex fee: the one the Receita debited for an official declaration, else the law's (per
    declaration + per addition).
    Allocation (a cost-accounting convention, not a legal rule): each declaration-level amount (Siscomex fee =
    fee per declaration + the fee of each addition; AFRMM; other customs expenses) is split in proportion to the
    items' customs value in BRL, each share rounded half up to the centavo, and the rounding rest goes to the item
    with the largest customs value (the first one in item order on a tie). When all customs values are zero the
    first item takes it all. The ERP's own declaration totals (Siscomex fee, AFRMM) are split with the same weights,
    so an item's difference is its share of the declaration's difference.
    CBS and IBS on imports (LC 214/2025, arts. 69 and 72): base = customs value + each amount the seed
    tax_regime_rules puts in it that date (`cbs_ibs_base_*` = 1: II, IS, Siscomex, AFRMM, PIS/COFINS-Importação;
    not IPI nor ICMS, art. 69, § 2); CBS = base x CBS rate, IBS = base x IBS rate, each rounded half up.
    ICMS on imports is computed "por dentro": its base includes the ICMS itself (LC 87/1996, art. 13, V and § 1, I):
    base = customs value + each amount with `icms_base_*` = 1 (II, IPI, PIS, COFINS, Siscomex, AFRMM, customs
    expenses, IS; CBS/IBS 0), which before 2026 is exactly the pre-reform base;
    ICMS = base / (1 - rate) x rate, computed as base x rate / (1 - rate) and rounded half up to the centavo.
    Multiplying first keeps the product exact; ClickHouse Decimal division truncates at the dividend's scale
    (12 here), and a truncation at 3+ decimals never changes a half-up rounding to 2 of a positive amount. -#}
{%- set allocations = [
    ('siscomex_fee_brl', 'siscomex_fee_total_brl'),
    ('afrmm_brl', 'afrmm_total_brl'),
    ('customs_expenses_brl', 'customs_expenses_total_brl'),
    ('erp_siscomex_fee_brl', 'erp_siscomex_fee_total_brl'),
    ('erp_afrmm_brl', 'erp_afrmm_total_brl'),
] -%}
{%- set base_flags = [
    'cbs_ibs_base_ii', 'cbs_ibs_base_is', 'cbs_ibs_base_siscomex', 'cbs_ibs_base_afrmm', 'cbs_ibs_base_pis_cofins',
    'cbs_ibs_base_customs_expenses', 'cbs_ibs_base_ipi',
    'icms_base_ii', 'icms_base_ipi', 'icms_base_pis_cofins', 'icms_base_siscomex', 'icms_base_afrmm',
    'icms_base_customs_expenses', 'icms_base_is', 'icms_base_cbs_ibs',
] -%}

with

items as (

    select * from {{ ref('int_import_declaration_items_sourced') }}

),

declarations as (

    -- the key renamed so that `items.*` keeps plain column names in the join
    select
        declaration_id as declaration_key,
        icms_rate_pct,
        cbs_rate,
        ibs_rate,
        {%- for flag in base_flags %}
        {{ flag }},
        {%- endfor %}
        siscomex_declaration_fee_brl,
        afrmm_brl as afrmm_total_brl,
        customs_expenses_brl as customs_expenses_total_brl,
        erp_siscomex_fee_brl as erp_siscomex_fee_total_brl,
        erp_afrmm_brl as erp_afrmm_total_brl
    from {{ ref('int_import_declarations_rated') }}

),

weighted as (

    select
        items.*,
        declarations.icms_rate_pct as icms_rate_pct,
        declarations.cbs_rate as cbs_rate_pct,
        declarations.ibs_rate as ibs_rate_pct,
        {%- for flag in base_flags %}
        declarations.{{ flag }} as {{ flag }},
        {%- endfor %}
        -- a declaration-level sum is NULL as soon as one of its terms is (a missing rate never shrinks a total)
        if(
            items.declaration_source = 'OFFICIAL_DECLARATION' and items.declared_siscomex_fee_total_brl is not null,
            cast(items.declared_siscomex_fee_total_brl as Nullable(Decimal(38, 8))),
            if(
                countIf(items.siscomex_addition_fee_brl is null) over per_declaration > 0
                or declarations.siscomex_declaration_fee_brl is null,
                null,
                declarations.siscomex_declaration_fee_brl + sum(items.siscomex_addition_fee_brl) over per_declaration
            )
        ) as siscomex_fee_total_brl,
        declarations.afrmm_total_brl as afrmm_total_brl,
        declarations.customs_expenses_total_brl as customs_expenses_total_brl,
        declarations.erp_siscomex_fee_total_brl as erp_siscomex_fee_total_brl,
        declarations.erp_afrmm_total_brl as erp_afrmm_total_brl,
        if(
            countIf(items.customs_value_brl is null) over per_declaration > 0,
            null,
            sum(items.customs_value_brl) over per_declaration
        ) as weight_total,
        row_number() over (
            partition by items.declaration_id order by items.customs_value_brl desc, items.item_number asc
        ) as weight_rank
    from items
    inner join declarations on declarations.declaration_key = items.declaration_id
    window per_declaration as (partition by items.declaration_id)

),

rounded_shares as (

    select
        *,
        {%- for share, total in allocations %}
        if(
            weight_total = 0,
            0,
            round(cast({{ total }} as Nullable(Decimal(38, 8))) * customs_value_brl / nullIf(weight_total, 0), 2)
        ) as {{ share }}_rounded{{ "," if not loop.last }}
        {%- endfor %}
    from weighted

),

allocated as (

    select
        *,
        {%- for share, total in allocations %}
        {{ share }}_rounded
            + if(weight_rank = 1, {{ total }} - sum({{ share }}_rounded) over per_declaration, 0)
            as {{ share }}_allocated{{ "," if not loop.last }}
        {%- endfor %}
    from rounded_shares
    window per_declaration as (partition by declaration_id)

),

with_cbs_ibs as (

    -- each amount times its 0/1 flag of the day: an exact product, so the base is a plain sum of centavos
    select
        *,
        {{ cbs_ibs_base('siscomex_fee_brl_allocated', 'afrmm_brl_allocated', 'customs_expenses_brl_allocated') }}
            as cbs_ibs_base_calc,
        round(cbs_ibs_base_calc * cbs_rate_pct / 100, 2) as cbs_calc,
        round(cbs_ibs_base_calc * ibs_rate_pct / 100, 2) as ibs_calc
    from allocated

),

with_icms as (

    select
        *,
        {{ icms_base(
            'siscomex_fee_brl_allocated', 'afrmm_brl_allocated', 'cbs_calc', 'ibs_calc',
            customs_expenses='customs_expenses_brl_allocated',
        ) }} as icms_base_calc,
        {{ icms_por_dentro('icms_base_calc') }} as icms_calc
    from with_cbs_ibs

),

final as (

    select
        {{ import_item_columns() | join(',\n        ') }},
        customs_value_amount,
        customs_value_brl,
        ii_rate_pct,
        ii_brl,
        ipi_rate_pct,
        ipi_brl,
        pis_rate_pct,
        pis_brl,
        cofins_rate_pct,
        cofins_brl,
        siscomex_addition_fee_brl,
        is_rate_pct,
        is_brl,
        is_legal_source,
        {%- for share, total in allocations %}
        cast({{ share }}_allocated as Nullable(Decimal(18, 4))) as {{ share }},
        {%- endfor %}
        cast(icms_rate_pct as Nullable(Decimal(38, 8))) as icms_rate_pct,
        cast(icms_base_calc as Nullable(Decimal(18, 4))) as icms_base_brl,
        cast(icms_calc as Nullable(Decimal(18, 4))) as icms_brl,
        cast(cbs_ibs_base_calc as Nullable(Decimal(18, 4))) as cbs_ibs_base_brl,
        cast(cbs_rate_pct as Nullable(Decimal(38, 8))) as cbs_rate_pct,
        cast(cbs_calc as Nullable(Decimal(18, 4))) as cbs_brl,
        cast(ibs_rate_pct as Nullable(Decimal(38, 8))) as ibs_rate_pct,
        cast(ibs_calc as Nullable(Decimal(18, 4))) as ibs_brl,
        ncm_legal_source,
        pis_cofins_exception_legal_source,
        declaration_source,
        official_match_status,
        official_match_reason,
        has_official_declaration,
        declared_ncm,
        declared_customs_value_brl,
        declared_ii_brl,
        declared_ipi_brl,
        declared_pis_brl,
        declared_cofins_brl,
        law_customs_value_brl,
        law_ii_brl,
        law_ipi_brl,
        law_pis_brl,
        law_cofins_brl,
        erp_customs_value_brl,
        erp_ii_brl,
        erp_ipi_brl,
        erp_pis_brl,
        erp_cofins_brl,
        erp_icms_brl
    from with_icms

)

select * from final
