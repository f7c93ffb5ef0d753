{#- One row per bank source, account and that source's transaction ID: every selected bank source's account
    transactions side by side (each already deduplicated within its source), with the account's `bank_account_key`
    (from the source's own accounts) and the account's ids in stg_bank__accounts (`institution`, `account_id`); the
    source's own ids stay in `source_institution`, `source_account_id`. A transaction of an account its source
    does not list keeps its own ids and a key '<source>:<institution>:<account_id>' that matches no other source.
    stg_bank__transactions keeps one row per movement. -#}
{{ bank_rows_keyed('transactions', [
        'institution', 'account_id', 'transaction_id', 'status', 'credit_debit_type', 'transaction_type',
        'transaction_name', 'amount', 'signed_amount', 'currency', 'transaction_datetime', 'booking_date',
        'partie_cnpj_cpf', 'partie_person_type', 'partie_compe_code', 'partie_branch_code', 'partie_number',
        'partie_check_digit', 'raw_json', 'pull_date', 'loaded_at', 'source_file',
    ]) }}
