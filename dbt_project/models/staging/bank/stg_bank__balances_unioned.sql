{#- One row per bank source, account and balance timestamp: every selected bank source's balances side by side,
    with the account's `bank_account_key` (from the source's own accounts) and the account's ids in
    stg_bank__accounts (`institution`, `account_id`); the source's own ids stay in `source_institution`,
    `source_account_id`. A balance of an account its source does not list keeps its own ids and a key
    '<source>:<institution>:<account_id>' that matches no other source. stg_bank__balances keeps one per time. -#}
{{ bank_rows_keyed('balances') }}
