{#- The version columns every ERP staging view ends with (models/staging/erp/README.md): the ERP's change and
    soft-delete times, `is_deleted`, and where the version came from: `arrived_at` (when its file was taken from
    the inbox, the tie-break at an equal `updated_at`), `loaded_at` and `source_file` (the raw load's). -#}
{% macro erp_version_columns() -%}
        cast(updated_at as DateTime64(3, 'UTC')) as updated_at,
        cast(deleted_at as Nullable(DateTime64(3, 'UTC'))) as deleted_at,
        cast(deleted_at is not null as Bool) as is_deleted,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
{%- endmacro %}
