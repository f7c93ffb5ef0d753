{{ config(order_by=['registration_date', 'declaration_id']) }}
{#- One row per import declaration (DI/DUIMP) the ERP holds and has not deleted, with what the law attaches to it:
    the Siscomex rate, the ICMS rate of the destination state, the general PIS/COFINS rates, the Siscomex fee per
    declaration and the AFRMM rate. Each rate is looked up on the date of its taxable event (README.md):
    - Siscomex rate: the PTAX selling rate of the business day before registration (Notícia Siscomex Importação
      016/2019; Portaria MF 6/1999), i.e. `fct_fx_rates_daily.ptax_sell` on `dim_calendar.previous_business_day`;
      NULL before `customs_rate_daily_since` (another rule applied) or when that day has no quote;
    - II, PIS/COFINS-Importação, Siscomex fee: the registration date (Regulamento Aduaneiro, Decreto 6.759/2009,
      art. 73, I; Lei 10.865/2004, art. 4, I; Lei 9.716/1998, art. 3, § 1); IPI and AFRMM too, by convention
      (README.md says why);
    - ICMS: the clearance date, the taxable event of ICMS on imports (LC 87/1996, art. 12, IX); a declaration not
      cleared yet uses its registration date, provisionally (`is_icms_rate_provisional`);
    - the reform's rules (seed tax_regime_rules: CBS and IBS rates, whether they are paid in cash, the share of the
      TIPI and state ICMS rates that applies, which amounts enter the CBS/IBS and ICMS bases, which taxes are
      recoverable credits): each on the date of its `taxable_event`, registration or clearance (CBS/IBS on imports:
      release of the goods, LC 214/2025 art. 67, I), clearance falling back to registration as for the ICMS.
      `icms_rate_pct` is the state's rate times the year's ICMS factor (100 % until 2028, LC 87/1996 art. 31-A).
    A rate that is missing for its date stays NULL (no silent fallback); the mart flags such rows. -#}
{%- set customs_since = var('customs_rate_daily_since') -%}

with

declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}
    where not is_deleted

),

shipments as (

    -- Nullable before the LEFT JOIN, so a declaration without its shipment gets NULL, not ''
    select
        shipment_id as shipment_key,
        cast(transport_mode as Nullable(String)) as transport_mode
    from {{ ref('stg_erp__shipments') }}
    where not is_deleted

),

calendar as (

    select
        date as calendar_date,
        cast(previous_business_day as Nullable(Date)) as previous_business_day
    from {{ ref('dim_calendar') }}

),

fx_rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

dated as (

    select
        declarations.*,
        shipments.transport_mode as shipment_transport_mode,
        cast(
            if(declarations.registration_date >= toDate('{{ customs_since }}'), calendar.previous_business_day, null)
            as Nullable(Date)
        ) as siscomex_rate_date,
        coalesce(declarations.clearance_date, declarations.registration_date) as icms_rate_date,
        declarations.clearance_date is null as is_icms_rate_provisional
    from declarations
    left join shipments on shipments.shipment_key = declarations.shipment_id
    left join calendar on calendar.calendar_date = declarations.registration_date

),

siscomex_rates as (

    select
        dated.declaration_id as declaration_id,
        cast(fx_rates.ptax_sell as Nullable(Decimal(38, 8))) as siscomex_rate
    from dated
    inner join fx_rates
        on fx_rates.currency = dated.currency
        and fx_rates.date = dated.siscomex_rate_date

),

icms_matched as (

    select
        dated.declaration_id as declaration_id,
        cast(icms_rates.icms_rate_pct as Nullable(Decimal(38, 8))) as icms_rate_pct,
        cast(icms_rates.legal_source as Nullable(String)) as icms_legal_source
    {{ rates_in_force(
        'dated', 'icms_rate_date', 'stg_reference__tax_icms_rates', 'icms_rates', match=('state', 'destination_state')
    ) }}

),

regime_matched as (

    {{ tax_regime_rules_matched('dated', 'declaration_id', 'registration_date', 'icms_rate_date') }}

),

rules_matched as (

    -- the general rules in force on the registration date, one column per rule (the tiers per addition are
    -- applied per item downstream)
    select
        dated.declaration_id as declaration_id,
        {{ general_import_rules() }}
    {{ rates_in_force('dated', 'registration_date', 'stg_reference__tax_import_rules', 'import_rules') }}
        and import_rules.rule != 'SISCOMEX_FEE_ADDITION'
    group by dated.declaration_id

),

final as (

    select
        dated.declaration_id as declaration_id,
        dated.declaration_type as declaration_type,
        dated.shipment_id as shipment_id,
        dated.registration_date as registration_date,
        dated.clearance_date as clearance_date,
        dated.customs_unit as customs_unit,
        dated.destination_state as destination_state,
        cast(dated.shipment_transport_mode as Nullable(String)) as transport_mode,
        dated.currency as currency,
        dated.fob_amount as fob_amount,
        dated.freight_amount as freight_amount,
        dated.insurance_amount as insurance_amount,
        dated.customs_expenses_brl as customs_expenses_brl,
        dated.siscomex_rate_date as siscomex_rate_date,
        cast(siscomex_rates.siscomex_rate as Nullable(Decimal(38, 8))) as siscomex_rate,
        dated.icms_rate_date as icms_rate_date,
        cast(dated.is_icms_rate_provisional as Bool) as is_icms_rate_provisional,
        -- the state's rate times the share of it that applies that year: exact (a factor of 100 returns the rate)
        cast(icms_matched.icms_rate_pct * regime_matched.icms_rate_factor / 100 as Nullable(Decimal(38, 8)))
            as icms_rate_pct,
        cast(icms_matched.icms_rate_pct as Nullable(Decimal(38, 8))) as icms_state_rate_pct,
        cast(icms_matched.icms_legal_source as Nullable(String)) as icms_legal_source,
        cast(rules_matched.pis_rate_pct as Nullable(Decimal(38, 8))) as general_pis_rate_pct,
        cast(rules_matched.cofins_rate_pct as Nullable(Decimal(38, 8))) as general_cofins_rate_pct,
        cast(rules_matched.siscomex_declaration_fee_brl as Nullable(Decimal(38, 8))) as siscomex_declaration_fee_brl,
        cast(rules_matched.afrmm_rate_pct as Nullable(Decimal(38, 8))) as afrmm_rate_pct,
        -- AFRMM: 8 % of the sea freight (Lei 10.893/2004, arts. 5 and 6, I), in BRL at the Siscomex rate, rounded
        -- to the centavo; nothing for air and road; unknown (NULL) without the shipment's transport mode
        cast(
            multiIf(
                dated.shipment_transport_mode is null, null,
                dated.shipment_transport_mode = 'SEA',
                round(dated.freight_amount * siscomex_rates.siscomex_rate * rules_matched.afrmm_rate_pct / 100, 2),
                0
            ) as Nullable(Decimal(18, 4))
        ) as afrmm_brl,
        -- the reform's rules in force (macros/tax_regime_rules_matched.sql), one column per rule
        {%- for rule in tax_regime_rule_names() %}
        cast(regime_matched.{{ rule | lower }} as Nullable(Decimal(38, 8))) as {{ rule | lower }},
        {%- endfor %}
        cast(coalesce(regime_matched.is_tax_regime_provisional, false) as Bool) as is_tax_regime_provisional,
        cast(coalesce(regime_matched.tax_regime_provisional_rules, '') as String) as tax_regime_provisional_rules,
        -- what the ERP recorded for the whole declaration
        cast(dated.exchange_rate as Decimal(38, 15)) as erp_exchange_rate,
        dated.siscomex_fee_brl as erp_siscomex_fee_brl,
        dated.afrmm_brl as erp_afrmm_brl
    from dated
    left join siscomex_rates on siscomex_rates.declaration_id = dated.declaration_id
    left join icms_matched on icms_matched.declaration_id = dated.declaration_id
    left join rules_matched on rules_matched.declaration_id = dated.declaration_id
    left join regime_matched on regime_matched.declaration_id = dated.declaration_id

)

select * from final
