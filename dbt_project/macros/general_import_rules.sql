{#- Select-list items: the general import rules (seed tax_import_rules, read as `import_rules`) of a group of rule
    rows in force, one column each: PIS and COFINS-Importação rates, the Siscomex fee per declaration and the
    AFRMM rate; NULL when the rule has no row in force. Used per declaration and per pipeline scenario. -#}
{% macro general_import_rules() -%}
    maxIfOrNull(import_rules.value, import_rules.rule = 'PIS_IMPORTACAO') as pis_rate_pct,
        maxIfOrNull(import_rules.value, import_rules.rule = 'COFINS_IMPORTACAO') as cofins_rate_pct,
        maxIfOrNull(import_rules.value, import_rules.rule = 'SISCOMEX_FEE_DECLARATION') as siscomex_declaration_fee_brl,
        maxIfOrNull(import_rules.value, import_rules.rule = 'AFRMM_LONG_HAUL') as afrmm_rate_pct
{%- endmacro %}
