{#- The ICMS base of an import before grossing up: the customs value in BRL plus each amount times its 0/1 flag of
    the day (`icms_base_*`, seed tax_regime_rules). The item's own columns as in cbs_ibs_base; the allocated
    Siscomex fee, AFRMM, (when known) customs expenses and the CBS and IBS amounts are named by the caller. The ICMS
    itself is `icms_por_dentro` of it. Shared by the landed cost and the pipeline's scenarios. -#}
{% macro icms_base(siscomex_fee, afrmm, cbs, ibs, customs_expenses=none) -%}
    cast(
            customs_value_brl
            + ii_brl * icms_base_ii
            + ipi_brl * icms_base_ipi
            + (pis_brl + cofins_brl) * icms_base_pis_cofins
            + {{ siscomex_fee }} * icms_base_siscomex
            + {{ afrmm }} * icms_base_afrmm
            {%- if customs_expenses %}
            + {{ customs_expenses }} * icms_base_customs_expenses
            {%- endif %}
            + is_brl * icms_base_is
            + ({{ cbs }} + {{ ibs }}) * icms_base_cbs_ibs
            as Nullable(Decimal(38, 8))
        )
{%- endmacro %}
