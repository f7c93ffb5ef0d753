{{ config(order_by=['registration_date', 'declaration_id', 'item_number'], partition_by='toYYYYMM(registration_date)') }}

{#- One row per import declaration item: customs value, taxes and fees as the law computes them
    (intermediate/customs/README.md cites each rule), the landed cost gross and net of the recoverable credits, and
    what the ERP recorded with the difference field by field (ERP minus computed). The customs value, II, IPI, PIS,
    COFINS and Siscomex fee are the official declaration's where it has been delivered and pairs with the ERP's
    items (`declaration_source`, int_import_declaration_items_sourced), else the law's computation on the ERP's
    copy; the rest is computed on them. From 2026 the consumption-tax
    reform adds the Imposto Seletivo, CBS and IBS; which taxes are paid in cash and which are recoverable credits
    follow the seed tax_regime_rules on each declaration's dates, so a pre-2026 row is computed exactly as before. -#}
{%- set credit_flags = ['credit_ipi', 'credit_pis_cofins', 'credit_icms', 'credit_cbs_ibs', 'credit_is'] -%}
{%- set declared = ['customs_value', 'ii', 'ipi', 'pis', 'cofins'] -%}
{%- set compared = [
    'customs_value_brl', 'ii_brl', 'ipi_brl', 'pis_brl', 'cofins_brl', 'siscomex_fee_brl', 'afrmm_brl', 'icms_brl'
] -%}

with

items as (

    select * from {{ ref('int_import_declaration_items_allocated') }}

),

declarations as (

    -- the key renamed so that `items.*` keeps plain column names in the join
    select
        declaration_id as declaration_key,
        declaration_type,
        registration_date,
        clearance_date,
        customs_unit,
        destination_state,
        transport_mode,
        currency,
        siscomex_rate_date,
        siscomex_rate,
        icms_rate_date,
        is_icms_rate_provisional,
        icms_legal_source,
        icms_state_rate_pct,
        cbs_ibs_cash_due,
        {%- for flag in credit_flags %}
        {{ flag }},
        {%- endfor %}
        credit_recovery_lag_months,
        is_tax_regime_provisional,
        tax_regime_provisional_rules,
        erp_exchange_rate
    from {{ ref('int_import_declarations_rated') }}

),

joined as (

    select
        items.*,
        declarations.declaration_type as declaration_type,
        declarations.registration_date as registration_date,
        declarations.clearance_date as clearance_date,
        declarations.customs_unit as customs_unit,
        declarations.destination_state as destination_state,
        declarations.transport_mode as transport_mode,
        declarations.currency as currency,
        declarations.siscomex_rate_date as siscomex_rate_date,
        declarations.siscomex_rate as siscomex_rate,
        declarations.icms_rate_date as icms_rate_date,
        declarations.is_icms_rate_provisional as is_icms_rate_provisional,
        declarations.icms_legal_source as icms_legal_source,
        declarations.icms_state_rate_pct as icms_state_rate_pct,
        declarations.cbs_ibs_cash_due as cbs_ibs_cash_due,
        {%- for flag in credit_flags %}
        declarations.{{ flag }} as {{ flag }},
        {%- endfor %}
        declarations.credit_recovery_lag_months as credit_recovery_lag_months,
        declarations.is_tax_regime_provisional as is_tax_regime_provisional,
        declarations.tax_regime_provisional_rules as tax_regime_provisional_rules,
        declarations.erp_exchange_rate as erp_exchange_rate
    from items
    inner join declarations on declarations.declaration_key = items.declaration_id

),

costed as (

    select
        *,
        -- the CBS and IBS actually paid: none in 2026, when a compliant taxpayer is dispensed (LC 214/2025 art.
        -- 348, § 1), all of it from 2027 (art. 76)
        (cbs_brl + ibs_brl) * cbs_ibs_cash_due as cbs_ibs_cash_calc,
        -- the taxes and fees paid in cash to clear the item (the customs expenses are services, not taxes)
        ii_brl + ipi_brl + pis_brl + cofins_brl + is_brl + siscomex_fee_brl + afrmm_brl + icms_brl + cbs_ibs_cash_calc
            as customs_taxes_cash_calc,
        -- everything paid to bring the item in
        customs_value_brl + customs_taxes_cash_calc + customs_expenses_brl as landed_cost_calc,
        -- the taxes paid on import that are credits for a company on actual profit (lucro real), each times its
        -- 0/1 flag of the day (seed tax_regime_rules): IPI, PIS, COFINS and ICMS (RIPI art. 226, V; Lei
        -- 10.865/2004, art. 15; LC 87/1996, art. 20), the CBS and IBS paid from 2027 (LC 214/2025 art. 47); not the IS
        ipi_brl * credit_ipi + (pis_brl + cofins_brl) * credit_pis_cofins + icms_brl * credit_icms
            + cbs_ibs_cash_calc * credit_cbs_ibs + is_brl * credit_is as recoverable_credits_calc,
        landed_cost_calc - recoverable_credits_calc as landed_cost_net_calc,
        erp_customs_value_brl + erp_ii_brl + erp_ipi_brl + erp_pis_brl + erp_cofins_brl
            + erp_siscomex_fee_brl + erp_afrmm_brl + customs_expenses_brl + erp_icms_brl as erp_landed_cost_calc
    from joined

),

compared as (

    select
        *,
        {%- for field in compared %}
        erp_{{ field }} - {{ field }} as {{ field[:-4] }}_difference_brl,
        {%- endfor %}
        erp_exchange_rate - siscomex_rate as exchange_rate_difference_calc,
        erp_landed_cost_calc - landed_cost_calc as landed_cost_difference_calc,
        -- a row whose computation lacks a rate cannot be confirmed, so it counts as different
        coalesce(
            exchange_rate_difference_calc != 0
            {%- for field in compared %}
            or {{ field[:-4] }}_difference_brl != 0
            {%- endfor %},
            true
        ) as has_erp_difference_calc,
        landed_cost_calc is null or siscomex_rate is null as has_missing_rate_calc
    from costed

),

final as (

    select
        declaration_id,
        cast(item_number as Int32) as item_number,
        cast(declaration_type as LowCardinality(String)) as declaration_type,
        registration_date,
        clearance_date,
        cast(customs_unit as LowCardinality(String)) as customs_unit,
        cast(destination_state as LowCardinality(String)) as destination_state,
        cast(transport_mode as LowCardinality(Nullable(String))) as transport_mode,
        po_id,
        cast(po_line_number as Int32) as po_line_number,
        cast(supplier_id as Nullable(String)) as supplier_id,
        sku,
        cast(ncm as LowCardinality(String)) as ncm,
        cast(quantity as Decimal(18, 4)) as quantity,
        cast(currency as LowCardinality(String)) as currency,
        cast(fob_amount as Decimal(18, 4)) as fob_amount,
        cast(freight_amount as Decimal(18, 4)) as freight_amount,
        cast(insurance_amount as Decimal(18, 4)) as insurance_amount,
        cast(customs_value_amount as Decimal(18, 4)) as customs_value_amount,
        cast(siscomex_rate_date as Nullable(Date)) as siscomex_rate_date,
        cast(siscomex_rate as Nullable(Decimal(38, 8))) as siscomex_rate,
        cast(customs_value_brl as Nullable(Decimal(18, 4))) as customs_value_brl,
        cast(ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ii_brl as Nullable(Decimal(18, 4))) as ii_brl,
        cast(ipi_rate_pct as Nullable(Decimal(38, 8))) as ipi_rate_pct,
        cast(ipi_brl as Nullable(Decimal(18, 4))) as ipi_brl,
        cast(pis_rate_pct as Nullable(Decimal(38, 8))) as pis_rate_pct,
        cast(pis_brl as Nullable(Decimal(18, 4))) as pis_brl,
        cast(cofins_rate_pct as Nullable(Decimal(38, 8))) as cofins_rate_pct,
        cast(cofins_brl as Nullable(Decimal(18, 4))) as cofins_brl,
        cast(addition_number as UInt32) as addition_number,
        cast(siscomex_fee_brl as Nullable(Decimal(18, 4))) as siscomex_fee_brl,
        cast(afrmm_brl as Nullable(Decimal(18, 4))) as afrmm_brl,
        cast(customs_expenses_brl as Nullable(Decimal(18, 4))) as customs_expenses_brl,
        cast(icms_rate_date as Date) as icms_rate_date,
        cast(is_icms_rate_provisional as Bool) as is_icms_rate_provisional,
        cast(icms_rate_pct as Nullable(Decimal(38, 8))) as icms_rate_pct,
        cast(icms_base_brl as Nullable(Decimal(18, 4))) as icms_base_brl,
        cast(icms_brl as Nullable(Decimal(18, 4))) as icms_brl,
        cast(landed_cost_calc as Nullable(Decimal(18, 4))) as landed_cost_brl,
        cast(round(cast(landed_cost_calc as Nullable(Decimal(38, 12))) / nullIf(quantity, 0), 4)
            as Nullable(Decimal(18, 4))) as landed_cost_per_unit_brl,
        cast(recoverable_credits_calc as Nullable(Decimal(18, 4))) as recoverable_credits_brl,
        cast(landed_cost_net_calc as Nullable(Decimal(18, 4))) as landed_cost_net_of_credits_brl,
        cast(round(cast(landed_cost_net_calc as Nullable(Decimal(38, 12))) / nullIf(quantity, 0), 4)
            as Nullable(Decimal(18, 4))) as landed_cost_net_of_credits_per_unit_brl,
        cast(ncm_legal_source as Nullable(String)) as ncm_legal_source,
        cast(pis_cofins_exception_legal_source as Nullable(String)) as pis_cofins_exception_legal_source,
        cast(icms_legal_source as Nullable(String)) as icms_legal_source,
        cast(erp_exchange_rate as Decimal(38, 15)) as erp_exchange_rate,
        {%- for field in compared %}
        {%- if field in ('siscomex_fee_brl', 'afrmm_brl') %}
        cast(erp_{{ field }} as Nullable(Decimal(18, 4))) as erp_{{ field }},
        {%- else %}
        cast(erp_{{ field }} as Decimal(18, 4)) as erp_{{ field }},
        {%- endif %}
        {%- endfor %}
        cast(erp_landed_cost_calc as Nullable(Decimal(18, 4))) as erp_landed_cost_brl,
        cast(exchange_rate_difference_calc as Nullable(Decimal(38, 15))) as exchange_rate_difference,
        {%- for field in compared %}
        cast({{ field[:-4] }}_difference_brl as Nullable(Decimal(18, 4))) as {{ field[:-4] }}_difference_brl,
        {%- endfor %}
        cast(landed_cost_difference_calc as Nullable(Decimal(18, 4))) as landed_cost_difference_brl,
        cast(has_missing_rate_calc as Bool) as has_missing_rate,
        cast(has_erp_difference_calc as Bool) as has_erp_difference,
        cast(max(has_erp_difference_calc) over (partition by declaration_id) as Bool) as declaration_has_erp_difference,
        -- the consumption-tax reform (EC 132/2023, LC 214/2025): 0 before 2026
        cast(icms_state_rate_pct as Nullable(Decimal(38, 8))) as icms_state_rate_pct,
        cast(is_rate_pct as Nullable(Decimal(38, 8))) as is_rate_pct,
        cast(is_brl as Nullable(Decimal(18, 4))) as is_brl,
        cast(is_legal_source as Nullable(String)) as is_legal_source,
        cast(cbs_ibs_base_brl as Nullable(Decimal(18, 4))) as cbs_ibs_base_brl,
        cast(cbs_rate_pct as Nullable(Decimal(38, 8))) as cbs_rate_pct,
        cast(cbs_brl as Nullable(Decimal(18, 4))) as cbs_brl,
        cast(ibs_rate_pct as Nullable(Decimal(38, 8))) as ibs_rate_pct,
        cast(ibs_brl as Nullable(Decimal(18, 4))) as ibs_brl,
        cast(cbs_ibs_cash_due = 1 as Nullable(Bool)) as is_cbs_ibs_cash_due,
        cast(cbs_ibs_cash_calc as Nullable(Decimal(18, 4))) as cbs_ibs_cash_brl,
        cast(customs_taxes_cash_calc as Nullable(Decimal(18, 4))) as customs_taxes_cash_brl,
        cast(addMonths(toStartOfMonth(icms_rate_date), toInt32(credit_recovery_lag_months)) as Nullable(Date))
            as credits_recovered_month,
        cast(is_tax_regime_provisional as Bool) as is_tax_regime_provisional,
        cast(tax_regime_provisional_rules as String) as tax_regime_provisional_rules,
        -- the official declaration (the broker's DI XML / DUIMP JSON): what the Receita registered for the item of
        -- the same number, NULL until the declaration has been delivered. `declared_differs_from_computed` says
        -- whether the law's computation on the ERP's copy (`law_*`, int_import_declaration_items_sourced) matches it
        cast(has_official_declaration as Bool) as has_official_declaration,
        {%- for field in declared %}
        cast(declared_{{ field }}_brl as Nullable(Decimal(18, 4))) as declared_{{ field }}_brl,
        {%- endfor %}
        cast(if(
            has_official_declaration,
            {%- for field in declared %}
            coalesce(declared_{{ field }}_brl != law_{{ field }}_brl, true){{ ' or' if not loop.last }}
            {%- endfor %},
            null
        ) as Nullable(Bool)) as declared_differs_from_computed,
        -- which source fed the customs value, II, IPI, PIS, COFINS and the Siscomex fee above (and so the ICMS,
        -- CBS/IBS and the landed cost): the official declaration wins over the ERP's copy when both exist and
        -- their items pair (item number and NCM, as many on both sides); else the law on the ERP's copy
        cast(declaration_source as LowCardinality(String)) as declaration_source,
        cast(official_match_status as LowCardinality(String)) as official_match_status,
        cast(official_match_reason as String) as official_match_reason
    from compared

)

select * from final
