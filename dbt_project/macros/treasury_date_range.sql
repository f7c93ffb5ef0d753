{#- The days a daily treasury mart computes, as one row: `first_date` (a scalar SQL expression: the mart's own first
    day), `last_date`, the last day the ERP and PTAX (and, `with_bank`, the bank) are all known up to
    (int_treasury_data_as_of, fct_fx_rates_daily), and `window_start`, the first day this run rewrites: the whole
    range on a full build; on an incremental run the first day of the month of `last_date - lookback_days`, never
    before `first_date` (relative to the data, not to today(): marts/treasury/README.md). -#}
{% macro treasury_date_range(first_date, with_bank=false) -%}
    select
        {{ first_date }} as first_date,
        least(
            {%- if with_bank %}
            (select bank_as_of_date from {{ ref('int_treasury_data_as_of') }}),
            {%- endif %}
            (select erp_as_of_date from {{ ref('int_treasury_data_as_of') }}),
            (select max(date) from {{ ref('fct_fx_rates_daily') }})
        ) as last_date,
        {%- if is_incremental() %}
        greatest(first_date, toStartOfMonth(last_date - {{ var('lookback_days') }})) as window_start
        {%- else %}
        first_date as window_start
        {%- endif %}
{%- endmacro %}
