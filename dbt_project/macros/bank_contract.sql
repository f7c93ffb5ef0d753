{#- The bank staging contract: the columns, in order, and ClickHouse types every bank source's staging model starts
    with (`stg_<source>__accounts`, `__balances`, `__transactions`, `__credit_card_accounts`,
    `__credit_card_transactions`; Open Finance and Pluggy also `__credit_card_bills`), so that stg_bank__* can union
    them (macros/bank_sources.sql, models/staging/bank/README.md). One entry per column:
    (name, type, the raw column it is read from when the source names it the same way). Open Finance's raw tables
    define it; another source maps its own fields onto it in `bank_contract_columns`. -#}
{% macro bank_contract(entity) -%}
    {%- set contracts = {
        'accounts': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('account_id', "String", 'account_id'),
            ('brand_name', "String", 'brand_name'),
            ('company_cnpj', "String", 'company_cnpj'),
            ('account_type', "LowCardinality(String)", 'account_type'),
            ('compe_code', "String", 'compe_code'),
            ('branch_code', "Nullable(String)", 'branch_code'),
            ('number', "String", 'number'),
            ('check_digit', "String", 'check_digit'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
        'balances': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('account_id', "String", 'account_id'),
            ('update_datetime', "DateTime64(3, 'UTC')", 'update_datetime'),
            ('available_amount', "Decimal(18, 4)", 'available_amount'),
            ('available_currency', "LowCardinality(String)", 'available_currency'),
            ('blocked_amount', "Decimal(18, 4)", 'blocked_amount'),
            ('blocked_currency', "LowCardinality(String)", 'blocked_currency'),
            ('automatically_invested_amount', "Decimal(18, 4)", 'automatically_invested_amount'),
            ('automatically_invested_currency', "LowCardinality(String)", 'automatically_invested_currency'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
        'transactions': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('account_id', "String", 'account_id'),
            ('transaction_id', "String", 'transaction_id'),
            ('status', "LowCardinality(String)", 'status'),
            ('credit_debit_type', "LowCardinality(String)", 'credit_debit_type'),
            ('transaction_type', "LowCardinality(String)", 'transaction_type'),
            ('transaction_name', "String", 'transaction_name'),
            ('amount', "Decimal(18, 4)", 'amount'),
            ('signed_amount', "Decimal(18, 4)", 'signed_amount'),
            ('currency', "LowCardinality(String)", 'currency'),
            ('transaction_datetime', "DateTime64(3, 'UTC')", 'transaction_datetime'),
            ('booking_date', "Date", 'booking_date'),
            ('partie_cnpj_cpf', "Nullable(String)", 'partie_cnpj_cpf'),
            ('partie_person_type', "LowCardinality(Nullable(String))", 'partie_person_type'),
            ('partie_compe_code', "Nullable(String)", 'partie_compe_code'),
            ('partie_branch_code', "Nullable(String)", 'partie_branch_code'),
            ('partie_number', "Nullable(String)", 'partie_number'),
            ('partie_check_digit', "Nullable(String)", 'partie_check_digit'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
        'credit_card_accounts': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('credit_card_account_id', "String", 'credit_card_account_id'),
            ('brand_name', "String", 'brand_name'),
            ('name', "String", 'name'),
            ('product_type', "LowCardinality(String)", 'product_type'),
            ('credit_card_network', "LowCardinality(String)", 'credit_card_network'),
            ('compe_code', "Nullable(String)", 'compe_code'),
            ('card_last4', "Nullable(String)", 'card_last4'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
        'credit_card_bills': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('credit_card_account_id', "String", 'credit_card_account_id'),
            ('bill_id', "String", 'bill_id'),
            ('due_date', "Date", 'due_date'),
            ('bill_total_amount', "Decimal(18, 4)", 'bill_total_amount'),
            ('bill_total_currency', "LowCardinality(String)", 'bill_total_currency'),
            ('bill_minimum_amount', "Nullable(Decimal(18, 4))", 'bill_minimum_amount'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
        'credit_card_transactions': [
            ('institution', "LowCardinality(String)", 'institution'),
            ('credit_card_account_id', "String", 'credit_card_account_id'),
            ('transaction_id', "String", 'transaction_id'),
            ('bill_id', "Nullable(String)", 'bill_id'),
            ('identification_number', "String", 'identification_number'),
            ('transaction_name', "String", 'transaction_name'),
            ('credit_debit_type', "LowCardinality(String)", 'credit_debit_type'),
            ('transaction_type', "LowCardinality(String)", 'transaction_type'),
            ('payment_type', "LowCardinality(Nullable(String))", 'payment_type'),
            ('fee_type', "LowCardinality(Nullable(String))", 'fee_type'),
            ('other_credits_type', "LowCardinality(Nullable(String))", 'other_credits_type'),
            ('charge_identificator', "Nullable(Int32)", 'charge_identificator'),
            ('charge_number', "Nullable(Int32)", 'charge_number'),
            ('amount', "Decimal(18, 4)", 'amount'),
            ('currency', "LowCardinality(String)", 'currency'),
            ('brazilian_amount', "Decimal(18, 4)", 'brazilian_amount'),
            ('signed_brazilian_amount', "Decimal(18, 4)", 'signed_brazilian_amount'),
            ('brazilian_currency', "LowCardinality(String)", 'brazilian_currency'),
            ('transaction_datetime', "DateTime64(3, 'UTC')", 'transaction_datetime'),
            ('bill_post_date', "Date", 'bill_post_date'),
            ('payee_mcc', "Nullable(Int32)", 'payee_mcc'),
            ('raw_json', "String", 'raw_json'),
            ('pull_date', "Date", '_partition_date'),
            ('loaded_at', "DateTime64(3, 'UTC')", '_loaded_at'),
            ('source_file', "String", '_source_file'),
        ],
    } -%}
    {%- if entity not in contracts -%}
        {{ exceptions.raise_compiler_error("bank_contract: no contract for '" ~ entity ~ "'") }}
    {%- endif -%}
    {{ return(contracts[entity]) }}
{%- endmacro %}

{#- The contract's column names of `entity`, in order. -#}
{% macro bank_contract_names(entity) -%}
    {{ return(bank_contract(entity) | map('first') | list) }}
{%- endmacro %}

{#- `cast(<expression> as <type>) as <name>` for every contract column of `entity`, comma separated, no trailing comma:
    the expression is the raw column of the same name unless `exprs` maps the name to the source's own expression
    (e.g. Pluggy's `{'available_amount': 'balance'}`). A name in `exprs` that the contract lacks is an error. -#}
{% macro bank_contract_columns(entity, exprs={}) -%}
    {%- set names = bank_contract_names(entity) -%}
    {%- for name in exprs if name not in names -%}
        {{ exceptions.raise_compiler_error(
            "bank_contract_columns('" ~ entity ~ "'): '" ~ name ~ "' is not a contract column (" ~ names | join(', ') ~ ")"
        ) }}
    {%- endfor -%}
    {%- for name, type, column in bank_contract(entity) %}
        cast({{ exprs.get(name, column) }} as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
