{#- Generic test: fails with every row of `model` whose composite key `columns` has no match on `fields` of `to`
    (a composite `relationships`, e.g. declaration items (po_id, po_line_number) -> PO lines (po_id, line_number)).
    Rows with a NULL in any of `columns` are skipped, as the built-in `relationships` skips NULLs. -#}
{% test relationships_combination(model, columns, to, fields) %}
    select {{ columns | join(', ') }}
    from {{ model }}
    where
        {% for column in columns %}{{ column }} is not null and {% endfor %}
        ({{ columns | join(', ') }}) not in (select {{ fields | join(', ') }} from {{ to }})
{% endtest %}
