{#- The latest version of each ERP row (models/staging/erp/README.md), whole: the newest `updated_at`; at an
    equal `updated_at` the latest arrival (a corrected file re-dropped wins, and re-running an older partition,
    which renews its `loaded_at`, changes nothing); `loaded_at` and `source_file` only order copies of one
    arrival. `key` is the primary key's column list, e.g. 'po_id, line_number'. -#}
{% macro erp_latest_version(relation, key) -%}
    select *
    from {{ relation }}
    order by updated_at desc, arrived_at desc, loaded_at desc, source_file desc
    limit 1 by {{ key }}
{%- endmacro %}
