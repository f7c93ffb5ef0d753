{#- The columns of a declaration item that every customs step carries through unchanged, in order: its key, its
    addition number, order line and supplier, product, quantities and invoice amounts (taxed, then allocated). -#}
{% macro import_item_columns() -%}
    {{ return([
        'declaration_id', 'item_number', 'addition_number', 'po_id', 'po_line_number', 'supplier_id', 'sku', 'ncm',
        'quantity', 'net_weight_kg', 'fob_amount', 'freight_amount', 'insurance_amount',
    ]) }}
{%- endmacro %}
