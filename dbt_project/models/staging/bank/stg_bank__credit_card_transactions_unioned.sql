{#- One row per bank source, card account and that source's transaction ID: every selected bank source's card
    transactions side by side (each already deduplicated within its source), with the card's `card_account_key`
    (from the source's own card accounts) and the card's ids in stg_bank__credit_card_accounts (`institution`,
    `credit_card_account_id`); the source's own stay in `source_institution`, `source_credit_card_account_id`.
    stg_bank__credit_card_transactions keeps one row per card movement. -#}
{{ bank_rows_keyed('credit_card_transactions', card=true) }}
