{{ config(order_by=['action_code', 'subject_id']) }}
{#- One row per future import declaration (a shipment, or a purchase order not booked yet) whose expected
    clearance lies within `tax_regime_timing_window_days` of the switch of regime (`tax_regime_switch_date`,
    2027-01-01) and for which moving the clearance across it changes the inventory cost (landed cost net of
    recoverable credits) or the cash paid at clearance by more than `tax_regime_timing_min_effect_brl`. The two
    scenarios are int_import_pipeline_scenarios_taxed's (the landed cost's rules on each date; README of
    marts/customs, "Regime comparison"), summed over the declaration's lines. The cost decides when it moves by
    more than the threshold; otherwise the cash at clearance does (the credits come back a month later, so that is
    working capital). The action is to move the clearance across the switch when that side is cheaper, or to keep
    it on its side (and not let it slip) when moving would cost more. A declaration with a missing rate on either
    side (say an IS rate not known yet) is left out: its effect cannot be stated. -#}
{%- set switch = var('tax_regime_switch_date') -%}
{%- set window_days = var('tax_regime_timing_window_days') -%}
{%- set threshold = var('tax_regime_timing_min_effect_brl') -%}

with

as_of as (

    select * from {{ ref('int_recommendations_as_of') }}

),

items as (

    select * from {{ ref('int_import_pipeline_items') }}

),

scenarios as (

    select * from {{ ref('int_import_pipeline_scenarios_taxed') }}

),

declarations as (

    -- the key renamed so that `per_declaration.*` keeps plain column names in the join
    select
        declaration_key as item_declaration_key,
        any(items.shipment_id) as shipment_id,
        any(items.po_id) as po_id,
        any(items.currency) as currency,
        count() as lines,
        sum(items.customs_value_brl) as customs_value_brl
    from items
    group by declaration_key

),

per_declaration as (

    select
        declaration_key,
        anyIf(scenario_date, scenario = 'expected') as expected_date,
        anyIf(scenario_date, scenario = 'other') as other_date,
        sumIf(customs_taxes_cash_brl, scenario = 'expected') as expected_cash,
        sumIf(customs_taxes_cash_brl, scenario = 'other') as other_cash,
        sumIf(landed_cost_net_of_credits_brl, scenario = 'expected') as expected_net,
        sumIf(landed_cost_net_of_credits_brl, scenario = 'other') as other_net,
        sumIf(cbs_ibs_cash_brl, scenario = 'expected') as expected_cbs_ibs,
        sumIf(cbs_ibs_cash_brl, scenario = 'other') as other_cbs_ibs,
        sumIf(pis_cofins_brl + ipi_brl, scenario = 'expected') as expected_pis_cofins_ipi,
        sumIf(pis_cofins_brl + ipi_brl, scenario = 'other') as other_pis_cofins_ipi,
        anyIf(credits_recovered_month, scenario = 'expected') as expected_credits_month,
        anyIf(credits_recovered_month, scenario = 'other') as other_credits_month,
        max(has_missing_rate) as has_missing_rate,
        max(is_tax_regime_provisional) as is_provisional
    from scenarios
    group by declaration_key

),

candidates as (

    -- positive = moving across the switch saves that much
    select
        per_declaration.*,
        declarations.shipment_id as shipment_id,
        declarations.po_id as po_id,
        declarations.currency as currency,
        declarations.lines as lines,
        declarations.customs_value_brl as customs_value_brl,
        expected_net - other_net as cost_saving,
        expected_cash - other_cash as cash_saving,
        abs(cost_saving) > {{ threshold }} as cost_decides,
        if(cost_decides, cost_saving, cash_saving) as saving,
        saving > 0 as should_move,
        expected_date < toDate('{{ switch }}') as is_expected_before
    from per_declaration
    inner join declarations on declarations.item_declaration_key = per_declaration.declaration_key
    cross join as_of
    where
        not per_declaration.has_missing_rate
        and as_of.as_of_date < toDate('{{ switch }}')
        and abs(dateDiff('day', per_declaration.expected_date, toDate('{{ switch }}'))) <= {{ window_days }}
        and (abs(expected_net - other_net) > {{ threshold }} or abs(expected_cash - other_cash) > {{ threshold }})

),

final as (

    select
        cast('tax_regime_timing' as String) as recommendation_type,
        cast(
            multiIf(
                should_move and is_expected_before, 'defer_clearance_past_switch',
                should_move, 'advance_clearance_before_switch',
                is_expected_before, 'keep_clearance_before_switch',
                'keep_clearance_after_switch'
            ) as String
        ) as action_code,
        cast(if(shipment_id is null, 'purchase_order', 'shipment') as String) as subject_type,
        cast(coalesce(shipment_id, po_id) as String) as subject_id,
        as_of.as_of_date as as_of_date,
        concat(
            if(shipment_id is null, concat('Purchase order ', po_id), concat('Shipment ', shipment_id, ' (', po_id, ')')),
            ' is expected to clear customs on ', toString(expected_date),
            if(is_expected_before, ', before the tax reform switch of ', ', after the tax reform switch of '),
            '{{ switch }}. Clearing it on ', toString(other_date), ' instead would change the taxes paid at clearance',
            ' from R$ ', {{ money_text('expected_cash') }}, ' to R$ ', {{ money_text('other_cash') }},
            ' (PIS/COFINS and IPI R$ ', {{ money_text('expected_pis_cofins_ipi') }}, ' -> R$ ',
            {{ money_text('other_pis_cofins_ipi') }}, ', CBS/IBS R$ ', {{ money_text('expected_cbs_ibs') }}, ' -> R$ ',
            {{ money_text('other_cbs_ibs') }}, ') and the inventory cost net of credits from R$ ',
            {{ money_text('expected_net') }}, ' to R$ ', {{ money_text('other_net') }}, '; credits come back in ',
            toString(expected_credits_month), ' vs ', toString(other_credits_month), '. ',
            multiIf(
                should_move and is_expected_before, concat('Defer the clearance to ', toString(other_date)),
                should_move, concat('Advance the clearance to ', toString(other_date), ' at the latest'),
                is_expected_before, concat('Clear it before ', '{{ switch }}', ': do not let it slip'),
                concat('Keep the clearance after ', '{{ switch }}')
            ),
            ': it saves about R$ ', {{ money_text('abs(saving)') }},
            if(cost_decides, ' of inventory cost', ' of cash at clearance'),
            if(is_provisional, ' (the reform''s rates from 2027 are provisional).', '.')
        ) as action,
        cast(round(abs(saving), 2) as Decimal(18, 4)) as expected_effect_brl,
        cast(round(abs(saving), 2) as Decimal(18, 4)) as effect_low_brl,
        cast(round(abs(saving), 2) as Decimal(18, 4)) as effect_high_brl,
        {{ json_object([
            ('models', "'[]'"),
            ('inputs', json_object([
                ('declaration_key', 'declaration_key'),
                ('shipment_id', 'shipment_id'),
                ('po_id', 'po_id'),
                ('currency', 'currency'),
                ('lines', 'lines'),
                ('customs_value_brl', 'customs_value_brl'),
                ('switch_date', "'" ~ switch ~ "'"),
                ('expected_clearance_date', 'expected_date'),
                ('other_clearance_date', 'other_date'),
                ('expected_cash_at_clearance_brl', 'expected_cash'),
                ('other_cash_at_clearance_brl', 'other_cash'),
                ('expected_net_cost_brl', 'expected_net'),
                ('other_net_cost_brl', 'other_net'),
                ('expected_credits_recovered_month', 'expected_credits_month'),
                ('other_credits_recovered_month', 'other_credits_month'),
                ('decided_by', "if(cost_decides, 'net_cost', 'cash_at_clearance')"),
                ('threshold_brl', threshold | string),
                ('rates_provisional', 'is_provisional'),
            ])),
        ], raw_keys=['models', 'inputs']) }} as evidence,
        toDate('{{ switch }}') as expires_on,
        cast(2 as UInt8) as priority
    from candidates
    cross join as_of

)

select * from final
