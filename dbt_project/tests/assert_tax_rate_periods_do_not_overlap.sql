{#- Two rows of the same tax key must not both be in force on one day, or a lookup would match twice (the models
    would pick one silently). Fails with each overlapping pair. Keys: NCM; state; rule and tier; NCM prefix; reform rule; IS NCM prefix. -#}
{%- set seeds = [
    ('stg_reference__tax_ncm_rates', ['ncm']),
    ('stg_reference__tax_icms_rates', ['state']),
    ('stg_reference__tax_import_rules', ['rule', 'tier_from']),
    ('stg_reference__tax_pis_cofins_ncm_exceptions', ['ncm_prefix']),
    ('stg_reference__tax_regime_rules', ['rule']),
    ('stg_reference__tax_selective_ncm_rates', ['ncm_prefix']),
] -%}

{%- for model, keys in seeds %}
select
    '{{ model }}' as seed,
    toString(tuple({% for key in keys %}a.{{ key }}{{ ", " if not loop.last }}{% endfor %})) as tax_key,
    a.valid_from as first_valid_from,
    b.valid_from as second_valid_from
from {{ ref(model) }} as a
inner join {{ ref(model) }} as b
    on {% for key in keys %}a.{{ key }} <=> b.{{ key }}{{ " and " if not loop.last }}{% endfor %}
where
    a.valid_from < b.valid_from
    and (a.valid_to is null or a.valid_to >= b.valid_from)
{{ "union all" if not loop.last }}
{% endfor %}
