{#- The CBS/IBS base of an import (LC 214/2025, art. 69): the customs value in BRL plus each amount times its 0/1
    flag of the day (`cbs_ibs_base_*`, seed tax_regime_rules): an exact product, so the base is a plain sum of
    centavos. The item's own columns `customs_value_brl`, `ii_brl`, `is_brl`, `pis_brl`, `cofins_brl` and
    `ipi_brl`; the allocated Siscomex fee, AFRMM and (when known) customs expenses are named by the caller. Shared
    by the landed cost (int_import_declaration_items_allocated) and the pipeline's scenarios. -#}
{% macro cbs_ibs_base(siscomex_fee, afrmm, customs_expenses=none) -%}
    cast(
            customs_value_brl
            + ii_brl * cbs_ibs_base_ii
            + is_brl * cbs_ibs_base_is
            + {{ siscomex_fee }} * cbs_ibs_base_siscomex
            + {{ afrmm }} * cbs_ibs_base_afrmm
            + (pis_brl + cofins_brl) * cbs_ibs_base_pis_cofins
            {%- if customs_expenses %}
            + {{ customs_expenses }} * cbs_ibs_base_customs_expenses
            {%- endif %}
            + ipi_brl * cbs_ibs_base_ipi
            as Nullable(Decimal(38, 8))
        )
{%- endmacro %}
