{#- Overrides dbt-clickhouse's `engine_clause` (materializations/table.sql), which every table, seed, incremental and
    distributed DDL of the adapter calls. With both switches unset it renders exactly what the adapter's does.
    - CLICKHOUSE_CLUSTER (the profile's `cluster`): a MergeTree engine becomes Replicated, like the platform's own
      tables (ingestion/common/table_layout.py, which holds the same two paths): one replication group across the
      cluster for unsharded tables, one per shard for the local table of a `distributed_*` model.
    - CLICKHOUSE_STORAGE_POLICY: tables in `marts` get `storage_policy`, added to the model's `settings`, which the
      adapter renders after ORDER BY/PARTITION BY (get_model_settings). Every table dbt makes in `marts` gets it (the
      __dbt_backup/__dbt_new_data/_local tables too): REPLACE PARTITION and EXCHANGE need both tables on one
      policy. Seeds (a few KB of reference CSVs in `raw`, reloaded from git by every `dbt seed`) stay on the
      default disk: the adapter's seed DDL renders no settings. -#}
{% macro engine_clause() %}{% do importau_storage_policy_setting() %}
  engine = {{ importau_table_engine() }}
{%- endmacro -%}

{% macro importau_table_engine() -%}
  {%- set engine = config.get('engine', default='MergeTree()') -%}
  {%- if adapter.get_clickhouse_cluster_name() is none or engine.startswith('Replicated') or 'MergeTree' not in engine -%}
    {{- engine -}}
  {%- else -%}
    {%- set name = (engine.split('(')[0]) | trim -%}
    {%- set args = (engine[engine.find('(') + 1:engine.rfind(')')] | trim) if '(' in engine else '' -%}
    {%- set sharded = config.get('materialized') in ('distributed_table', 'distributed_incremental') -%}
    {%- set path = '/clickhouse/tables/{uuid}/' ~ ('{shard}' if sharded else 'all') -%}
    {{- 'Replicated' ~ name ~ "('" ~ path ~ "', '{replica}'" ~ (', ' ~ args if args else '') ~ ')' -}}
  {%- endif -%}
{%- endmacro %}

{% macro importau_storage_policy_setting() -%}
  {%- set policy = env_var('CLICKHOUSE_STORAGE_POLICY', '') | trim -%}
  {%- if policy and model is mapping and model.get('schema') == 'marts' -%}
    {%- set settings = model['config'].get('settings') -%}
    {%- if settings is none -%}
      {%- do model['config'].update({'settings': {}}) -%}
      {%- set settings = model['config']['settings'] -%}
    {%- endif -%}
    {%- do settings.update({'storage_policy': policy}) -%}
  {%- endif -%}
{%- endmacro %}
