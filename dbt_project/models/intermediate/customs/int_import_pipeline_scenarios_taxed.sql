{{ config(order_by=['declaration_key', 'scenario', 'po_id', 'line_number']) }}
{#- One row per pipeline item (int_import_pipeline_items) and scenario: `expected`, cleared on its expected
    clearance date under the rules in force then, and `other`, the same clearance moved across the switch of
    regime (`var('tax_regime_switch_date')`, 2027-01-01): to the switch date when it is expected before it, to the
    day before it otherwise. Both scenarios register and clear on the scenario date and use the same spot rate.
    The taxes follow the landed cost's rules and seeds (intermediate/customs/README.md): II, IPI (x the year's
    factor), PIS/COFINS-Importação (general rates; the NCM exceptions seed is empty and not applied here), IS,
    Siscomex fee (per declaration + tier of each line's addition) and AFRMM (8 % of the sea freight) allocated by
    customs value in BRL with the rest on the largest item, CBS/IBS on the art. 69 base, ICMS por dentro at the
    state's rate x the year's factor; the cash at clearance, the recoverable credits and the month they are
    recovered. Customs expenses (storage, brokerage) are not known before clearance and are left out (0). -#}
{%- set switch = var('tax_regime_switch_date') -%}
{%- set allocations = ['siscomex_fee_brl', 'afrmm_brl'] -%}

with

items as (

    select * from {{ ref('int_import_pipeline_items') }}

),

scenarios as (

    select
        items.*,
        scenario,
        if(
            scenario = 'expected',
            items.expected_clearance_date,
            if(
                items.expected_clearance_date < toDate('{{ switch }}'),
                toDate('{{ switch }}'),
                toDate('{{ switch }}') - 1
            )
        ) as scenario_date,
        concat(items.po_id, '|', toString(items.line_number), '|', scenario) as scenario_key
    from items
    array join ['expected', 'other'] as scenario

),

regime_matched as (

    {{ tax_regime_rules_matched('scenarios', 'scenario_key', 'scenario_date', 'scenario_date') }}

),

ncm_matched as (

    select
        scenarios.scenario_key as key,
        cast(ncm_rates.ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ncm_rates.ipi_rate_pct as Nullable(Decimal(38, 8))) as ipi_rate_pct
    {{ rates_in_force('scenarios', 'scenario_date', 'stg_reference__tax_ncm_rates', 'ncm_rates', match=('ncm', 'ncm')) }}

),

icms_matched as (

    select
        scenarios.scenario_key as key,
        cast(icms_rates.icms_rate_pct as Nullable(Decimal(38, 8))) as icms_state_rate_pct
    {{ rates_in_force(
        'scenarios', 'scenario_date', 'stg_reference__tax_icms_rates', 'icms_rates', match=('state', 'destination_state')
    ) }}

),

rules_matched as (

    select
        scenarios.scenario_key as key,
        {{ general_import_rules() }},
        maxIfOrNull(
            import_rules.value,
            import_rules.rule = 'SISCOMEX_FEE_ADDITION'
            and scenarios.addition_number >= import_rules.tier_from
            and (import_rules.tier_to is null or scenarios.addition_number <= import_rules.tier_to)
        ) as siscomex_addition_fee_brl
    {{ rates_in_force('scenarios', 'scenario_date', 'stg_reference__tax_import_rules', 'import_rules') }}
    group by scenarios.scenario_key

),

selective_matched as (

    -- the longest NCM prefix subject to the Imposto Seletivo; no row = outside the IS
    {{ ncm_prefix_rate_in_force(
        'scenarios', {'key': 'scenario_key'}, 'scenario_date', 'stg_reference__tax_selective_ncm_rates', 'selective_rates', [
            'cast(selective_rates.is_rate_pct as Nullable(Decimal(38, 8))) as is_rate_pct',
            'cast(selective_rates.legal_source as Nullable(String)) as legal_source',
        ],
    ) }}

),

rated as (

    select
        scenarios.*,
        cast(ncm_matched.ii_rate_pct as Nullable(Decimal(38, 8))) as ii_rate_pct,
        cast(ncm_matched.ipi_rate_pct * regime_matched.ipi_rate_factor / 100 as Nullable(Decimal(38, 8)))
            as ipi_rate_pct,
        cast(rules_matched.pis_rate_pct as Nullable(Decimal(38, 8))) as pis_rate_pct,
        cast(rules_matched.cofins_rate_pct as Nullable(Decimal(38, 8))) as cofins_rate_pct,
        cast(rules_matched.siscomex_declaration_fee_brl as Nullable(Decimal(38, 8))) as siscomex_declaration_fee_brl,
        cast(rules_matched.siscomex_addition_fee_brl as Nullable(Decimal(38, 8))) as siscomex_addition_fee_brl,
        cast(rules_matched.afrmm_rate_pct as Nullable(Decimal(38, 8))) as afrmm_rate_pct,
        cast(icms_matched.icms_state_rate_pct * regime_matched.icms_rate_factor / 100 as Nullable(Decimal(38, 8)))
            as icms_rate_pct,
        cast(
            if(selective_matched.legal_source is null, toNullable(toDecimal128(0, 8)), selective_matched.is_rate_pct)
            as Nullable(Decimal(38, 8))
        ) as is_rate_pct,
        {%- for rule in tax_regime_rule_names() %}
        regime_matched.{{ rule | lower }} as {{ rule | lower }},
        {%- endfor %}
        regime_matched.is_tax_regime_provisional as is_tax_regime_provisional,
        regime_matched.tax_regime_provisional_rules as tax_regime_provisional_rules
    from scenarios
    left join ncm_matched on ncm_matched.key = scenarios.scenario_key
    left join icms_matched on icms_matched.key = scenarios.scenario_key
    left join rules_matched on rules_matched.key = scenarios.scenario_key
    left join selective_matched on selective_matched.key = scenarios.scenario_key
    left join regime_matched on regime_matched.scenario_key = scenarios.scenario_key

),

item_taxes as (

    select
        *,
        {{ import_item_taxes('customs_value_brl') }}
    from rated

),

declaration_totals as (

    -- per future declaration and scenario: the Siscomex fee (per declaration + each addition) and the AFRMM
    select
        *,
        if(
            countIf(siscomex_addition_fee_brl is null) over per_declaration > 0,
            null,
            siscomex_declaration_fee_brl + sum(siscomex_addition_fee_brl) over per_declaration
        ) as siscomex_fee_brl_total,
        cast(
            if(
                transport_mode = 'SEA',
                cast(round(declaration_freight_amount * spot_rate * afrmm_rate_pct / 100, 2) as Nullable(Decimal(38, 8))),
                toNullable(toDecimal128(0, 8))
            ) as Nullable(Decimal(38, 8))
        ) as afrmm_brl_total,
        if(
            countIf(customs_value_brl is null) over per_declaration > 0,
            null,
            sum(customs_value_brl) over per_declaration
        ) as weight_total,
        row_number() over (
            partition by declaration_key, scenario order by customs_value_brl desc, po_id, line_number
        ) as weight_rank
    from item_taxes
    window per_declaration as (partition by declaration_key, scenario)

),

rounded_shares as (

    select
        *,
        {%- for share in allocations %}
        if(
            weight_total = 0,
            cast(if(weight_rank = 1, {{ share }}_total, 0) as Nullable(Decimal(38, 8))),
            cast(
                round(cast({{ share }}_total as Nullable(Decimal(38, 8))) * customs_value_brl / nullIf(weight_total, 0), 2)
                as Nullable(Decimal(38, 8))
            )
        ) as {{ share }}_rounded{{ "," if not loop.last }}
        {%- endfor %}
    from declaration_totals

),

allocated as (

    select
        *,
        {%- for share in allocations %}
        {{ share }}_rounded
            + if(weight_rank = 1 and weight_total != 0, {{ share }}_total - sum({{ share }}_rounded) over per_declaration, 0)
            as {{ share }}{{ "," if not loop.last }}
        {%- endfor %}
    from rounded_shares
    window per_declaration as (partition by declaration_key, scenario)

),

with_cbs_ibs as (

    select
        *,
        {{ cbs_ibs_base('siscomex_fee_brl', 'afrmm_brl') }} as cbs_ibs_base_brl,
        round(cbs_ibs_base_brl * cbs_rate / 100, 2) as cbs_brl,
        round(cbs_ibs_base_brl * ibs_rate / 100, 2) as ibs_brl
    from allocated

),

with_icms as (

    select
        *,
        {{ icms_base('siscomex_fee_brl', 'afrmm_brl', 'cbs_brl', 'ibs_brl') }} as icms_base_brl,
        {{ icms_por_dentro('icms_base_brl') }} as icms_brl
    from with_cbs_ibs

),

costed as (

    select
        *,
        (cbs_brl + ibs_brl) * cbs_ibs_cash_due as cbs_ibs_cash_brl,
        ii_brl + ipi_brl + pis_brl + cofins_brl + is_brl + siscomex_fee_brl + afrmm_brl + icms_brl + cbs_ibs_cash_brl
            as customs_taxes_cash_brl,
        customs_value_brl + customs_taxes_cash_brl as landed_cost_brl,
        ipi_brl * credit_ipi + (pis_brl + cofins_brl) * credit_pis_cofins + icms_brl * credit_icms
            + cbs_ibs_cash_brl * credit_cbs_ibs + is_brl * credit_is as recoverable_credits_brl
    from with_icms

),

final as (

    select
        declaration_key,
        po_id,
        line_number,
        cast(scenario as LowCardinality(String)) as scenario,
        cast(scenario_date as Nullable(Date)) as scenario_date,
        cast(scenario_date < toDate('{{ switch }}') as Bool) as is_before_switch,
        customs_value_brl,
        cast(ii_brl as Nullable(Decimal(18, 4))) as ii_brl,
        cast(ipi_brl as Nullable(Decimal(18, 4))) as ipi_brl,
        cast(pis_brl + cofins_brl as Nullable(Decimal(18, 4))) as pis_cofins_brl,
        cast(is_brl as Nullable(Decimal(18, 4))) as is_brl,
        cast(siscomex_fee_brl as Nullable(Decimal(18, 4))) as siscomex_fee_brl,
        cast(afrmm_brl as Nullable(Decimal(18, 4))) as afrmm_brl,
        cast(cbs_rate as Nullable(Decimal(38, 8))) as cbs_rate_pct,
        cast(ibs_rate as Nullable(Decimal(38, 8))) as ibs_rate_pct,
        cast(cbs_ibs_base_brl as Nullable(Decimal(18, 4))) as cbs_ibs_base_brl,
        cast(cbs_brl as Nullable(Decimal(18, 4))) as cbs_brl,
        cast(ibs_brl as Nullable(Decimal(18, 4))) as ibs_brl,
        cast(icms_rate_pct as Nullable(Decimal(38, 8))) as icms_rate_pct,
        cast(icms_brl as Nullable(Decimal(18, 4))) as icms_brl,
        cast(cbs_ibs_cash_brl as Nullable(Decimal(18, 4))) as cbs_ibs_cash_brl,
        cast(customs_taxes_cash_brl as Nullable(Decimal(18, 4))) as customs_taxes_cash_brl,
        cast(landed_cost_brl as Nullable(Decimal(18, 4))) as landed_cost_brl,
        cast(recoverable_credits_brl as Nullable(Decimal(18, 4))) as recoverable_credits_brl,
        cast(landed_cost_brl - recoverable_credits_brl as Nullable(Decimal(18, 4))) as landed_cost_net_of_credits_brl,
        cast(addMonths(toStartOfMonth(scenario_date), toInt32(credit_recovery_lag_months)) as Nullable(Date))
            as credits_recovered_month,
        cast(landed_cost_brl is null as Bool) as has_missing_rate,
        cast(coalesce(is_tax_regime_provisional, false) as Bool) as is_tax_regime_provisional,
        cast(coalesce(tax_regime_provisional_rules, '') as String) as tax_regime_provisional_rules
    from costed

)

select * from final
