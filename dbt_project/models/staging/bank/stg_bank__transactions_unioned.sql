{#- One row per bank source, account and that source's transaction ID: every selected bank source's account
    transactions side by side (each already deduplicated within its source), with the account's `bank_account_key`
    (from the source's own accounts) and the account's ids in stg_bank__accounts (`institution`, `account_id`); the
    source's own ids stay in `source_institution`, `source_account_id`. A transaction of an account its source
    does not list keeps its own ids and a key '<source>:<institution>:<account_id>' that matches no other source.
    stg_bank__transactions keeps one row per movement. -#}
{#- A table: stg_bank__transactions reads it twice (the matching on its keys, then the winners' whole rows), and as
    a view the union and its account joins ran for each read and each of its data tests. -#}
{{ config(materialized='table', order_by=['bank_source', 'source_institution', 'source_account_id', 'transaction_id']) }}
{{ bank_rows_keyed('transactions') }}
