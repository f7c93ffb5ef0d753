{{ config(order_by=['declaration_key', 'po_id', 'line_number']) }}

{#- One row per line of a purchase order or shipment still in the import pipeline (not declared yet): what it
    will cost landed and in cash at clearance under the rules in force on its expected clearance date, and under
    the other regime, were its clearance moved across the switch (2027-01-01, `var('tax_regime_switch_date')`), with
    the month each scenario's credits are recovered. Computed in int_import_pipeline_scenarios_taxed with the
    landed cost's rules and seeds; README.md ("Regime comparison") gives the conventions of the estimate. -#}
{%- set switch = var('tax_regime_switch_date') -%}
{%- set compared = [
    ('customs_taxes_cash_brl', 'Nullable(Decimal(18, 4))'),
    ('cbs_ibs_cash_brl', 'Nullable(Decimal(18, 4))'),
    ('pis_cofins_brl', 'Nullable(Decimal(18, 4))'),
    ('ipi_brl', 'Nullable(Decimal(18, 4))'),
    ('is_brl', 'Nullable(Decimal(18, 4))'),
    ('icms_brl', 'Nullable(Decimal(18, 4))'),
    ('landed_cost_brl', 'Nullable(Decimal(18, 4))'),
    ('recoverable_credits_brl', 'Nullable(Decimal(18, 4))'),
    ('landed_cost_net_of_credits_brl', 'Nullable(Decimal(18, 4))'),
    ('credits_recovered_month', 'Nullable(Date)'),
] -%}

with

items as (

    select * from {{ ref('int_import_pipeline_items') }}

),

scenarios as (

    select * from {{ ref('int_import_pipeline_scenarios_taxed') }}

),

pivoted as (

    select
        po_id as po_key,
        line_number as line_key,
        anyIf(scenario_date, scenario = 'other') as other_clearance_date,
        {%- for field, type in compared %}
        anyIf({{ field }}, scenario = 'expected') as expected_{{ field }},
        anyIf({{ field }}, scenario = 'other') as other_{{ field }},
        {%- endfor %}
        max(has_missing_rate) as has_missing_rate,
        max(is_tax_regime_provisional) as is_tax_regime_provisional,
        arrayStringConcat(arraySort(arrayDistinct(arrayFlatten(
            groupArray(splitByChar(',', tax_regime_provisional_rules))
        ))), ',') as provisional_rules_joined
    from scenarios
    group by po_id, line_number

),

final as (

    select
        items.declaration_key as declaration_key,
        items.po_id as po_id,
        cast(items.line_number as Int32) as line_number,
        cast(items.shipment_id as Nullable(String)) as shipment_id,
        cast(items.pipeline_stage as LowCardinality(String)) as pipeline_stage,
        cast(items.po_status as LowCardinality(String)) as po_status,
        items.supplier_id as supplier_id,
        items.sku as sku,
        cast(items.ncm as LowCardinality(String)) as ncm,
        cast(items.quantity as Decimal(18, 4)) as quantity,
        cast(items.currency as LowCardinality(String)) as currency,
        cast(items.transport_mode as LowCardinality(Nullable(String))) as transport_mode,
        cast(items.destination_state as LowCardinality(Nullable(String))) as destination_state,
        cast(items.destination_state_source as LowCardinality(String)) as destination_state_source,
        cast(items.customs_value_amount as Decimal(18, 4)) as customs_value_amount,
        cast(items.is_freight_known as Bool) as is_freight_known,
        cast(items.spot_rate as Nullable(Decimal(38, 8))) as spot_rate,
        cast(items.spot_rate_date as Nullable(Date)) as spot_rate_date,
        cast(items.customs_value_brl as Nullable(Decimal(18, 4))) as customs_value_brl,
        cast(items.as_of_date as Date) as as_of_date,
        cast(items.expected_clearance_date as Nullable(Date)) as expected_clearance_date,
        cast(if(items.expected_clearance_date < toDate('{{ switch }}'), 'pre_reform', 'reform') as LowCardinality(String))
            as expected_regime,
        cast(pivoted.other_clearance_date as Nullable(Date)) as other_clearance_date,
        cast(if(items.expected_clearance_date < toDate('{{ switch }}'), 'reform', 'pre_reform') as LowCardinality(String))
            as other_regime,
        {%- for field, type in compared %}
        cast(pivoted.expected_{{ field }} as {{ type }}) as expected_{{ field }},
        cast(pivoted.other_{{ field }} as {{ type }}) as other_{{ field }},
        {%- endfor %}
        -- moving the clearance across the switch: other minus expected (negative = the move saves)
        cast(pivoted.other_customs_taxes_cash_brl - pivoted.expected_customs_taxes_cash_brl as Nullable(Decimal(18, 4)))
            as cash_at_clearance_change_brl,
        cast(pivoted.other_landed_cost_brl - pivoted.expected_landed_cost_brl as Nullable(Decimal(18, 4)))
            as landed_cost_change_brl,
        cast(
            pivoted.other_landed_cost_net_of_credits_brl - pivoted.expected_landed_cost_net_of_credits_brl
            as Nullable(Decimal(18, 4))
        ) as net_cost_change_brl,
        cast(pivoted.has_missing_rate as Bool) as has_missing_rate,
        cast(pivoted.is_tax_regime_provisional as Bool) as is_tax_regime_provisional,
        cast(trim(both ',' from pivoted.provisional_rules_joined) as String) as tax_regime_provisional_rules
    from items
    inner join pivoted on pivoted.po_key = items.po_id and pivoted.line_key = items.line_number

)

select * from final
