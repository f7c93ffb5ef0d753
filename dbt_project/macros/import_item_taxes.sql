{#- The federal import taxes of one item, each rounded half up to the centavo as the declaration does, from its
    customs value in BRL (`customs_value`) and the rates and flags of its row (`ii_rate_pct`, `ipi_rate_pct`,
    `pis_rate_pct`, `cofins_rate_pct`, `is_rate_pct`, `is_base_ii`): II = value x II rate; IPI = (value + II) x
    IPI rate; PIS and COFINS = value x rate; IS = (value + II x `is_base_ii`) x IS rate (intermediate/customs/
    README.md). Select-list items named `ii_brl`, `ipi_brl`, `pis_brl`, `cofins_brl`, `is_brl` plus `suffix`. The
    landed cost (int_import_declaration_items_taxed) and the pipeline's scenarios use the same formulas. -#}
{% macro import_item_taxes(customs_value, suffix='') -%}
    round({{ customs_value }} * ii_rate_pct / 100, 2) as ii_brl{{ suffix }},
        round(({{ customs_value }} + ii_brl{{ suffix }}) * ipi_rate_pct / 100, 2) as ipi_brl{{ suffix }},
        round({{ customs_value }} * pis_rate_pct / 100, 2) as pis_brl{{ suffix }},
        round({{ customs_value }} * cofins_rate_pct / 100, 2) as cofins_brl{{ suffix }},
        -- the base cast to 8 decimals first: Decimal128 products add their scales, and scale 20 (II) + 8 (flag) +
        -- 8 (rate) would leave too few integer digits (ClickHouse does not raise on that overflow)
        round(cast({{ customs_value }} + ii_brl{{ suffix }} * is_base_ii as Nullable(Decimal(38, 8))) * is_rate_pct / 100, 2)
            as is_brl{{ suffix }}
{%- endmacro %}
