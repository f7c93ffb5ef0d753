{#- The reform-era rules (seed tax_regime_rules) in force for each row of `relation`, one column per rule, named
    after the rule in lower case (`cbs_rate`, `icms_base_is`, `credit_cbs_ibs`...), plus `is_tax_regime_provisional`
    (some rule used is provisional) and `tax_regime_provisional_rules` (their names). A rule applies on the date of
    its taxable event: `registration_column` or `clearance_column` of the row, as the seed's `taxable_event` says.
    A rule with no row for its date comes out NULL (no silent fallback). Used by the landed cost
    (int_import_declarations_rated) and the pipeline's regime comparison (int_import_pipeline_scenarios_taxed). -#}
{% macro tax_regime_rule_names() -%}
    {{ return([
        'CBS_RATE', 'IBS_RATE', 'CBS_IBS_CASH_DUE', 'IPI_RATE_FACTOR', 'ICMS_RATE_FACTOR',
        'CBS_IBS_BASE_II', 'CBS_IBS_BASE_IS', 'CBS_IBS_BASE_SISCOMEX', 'CBS_IBS_BASE_AFRMM', 'CBS_IBS_BASE_PIS_COFINS',
        'CBS_IBS_BASE_CUSTOMS_EXPENSES', 'CBS_IBS_BASE_IPI',
        'ICMS_BASE_II', 'ICMS_BASE_IPI', 'ICMS_BASE_PIS_COFINS', 'ICMS_BASE_SISCOMEX', 'ICMS_BASE_AFRMM',
        'ICMS_BASE_CUSTOMS_EXPENSES', 'ICMS_BASE_IS', 'ICMS_BASE_CBS_IBS', 'IS_BASE_II',
        'CREDIT_IPI', 'CREDIT_PIS_COFINS', 'CREDIT_ICMS', 'CREDIT_CBS_IBS', 'CREDIT_IS', 'CREDIT_RECOVERY_LAG_MONTHS',
    ]) }}
{%- endmacro %}

{% macro tax_regime_rules_matched(relation, key_column, registration_column, clearance_column) -%}
    {%- set taxable_event_date = "if(regime_rules.taxable_event = 'clearance', " ~ relation ~ "." ~ clearance_column
        ~ ", " ~ relation ~ "." ~ registration_column ~ ")" -%}
    select
        {{ relation }}.{{ key_column }} as {{ key_column }},
        {%- for rule in tax_regime_rule_names() %}
        maxIfOrNull(regime_rules.value, regime_rules.rule = '{{ rule }}') as {{ rule | lower }},
        {%- endfor %}
        countIf(regime_rules.is_provisional) > 0 as is_tax_regime_provisional,
        arrayStringConcat(arraySort(groupArrayIf(regime_rules.rule, regime_rules.is_provisional)), ',')
            as tax_regime_provisional_rules
    from {{ relation }}
    cross join {{ ref('stg_reference__tax_regime_rules') }} as regime_rules
    where {{ rate_in_force('regime_rules', taxable_event_date) }}
    group by {{ relation }}.{{ key_column }}
{%- endmacro %}
