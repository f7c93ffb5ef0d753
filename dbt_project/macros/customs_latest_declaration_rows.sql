{#- The rows of `relation` (a staging/customs CTE: items or taxes paid) that belong to the version of each official
    declaration `stg_customs__declarations` keeps (its latest version, then latest arrival), one per `key` within
    the declaration (`item_number`, `tax`); of copies of one arrival, the latest load. -#}
{% macro customs_latest_declaration_rows(relation, key) -%}
    select {{ relation }}.*
    from {{ relation }}
    inner join (
        select declaration_id, declaration_version, arrived_at
        from {{ ref('stg_customs__declarations') }}
    ) as latest
        on {{ relation }}.declaration_id = latest.declaration_id
        and {{ relation }}.declaration_version = latest.declaration_version
        and {{ relation }}.arrived_at = latest.arrived_at
    order by {{ relation }}.loaded_at desc
    limit 1 by {{ relation }}.declaration_id, {{ relation }}.{{ key }}
{%- endmacro %}
