{#- A table, not a view, as stg_bank__transactions: its data tests re-planned the cross-source chain each time
    (dbt_project/README.md, "Which models are tables"). No order_by: its keys are Nullable, and it is small. -#}
{{ config(materialized='table') }}
{#- One row per card movement, whichever sources saw it (README.md, "One card movement, one row"): the rule of
    stg_bank__transactions without the counterparty document a card movement does not carry. Two rows of different
    sources are the same movement when they share the card (`card_account_key`), the São Paulo transaction date,
    `brazilian_currency` and `signed_brazilian_amount`, matched 1:1 by occurrence: the n-th such row of one source
    (by time, then id) is the n-th of the other, so two genuine equal purchases of a day stay two. Within a movement
    a billed row (`bill_id` set: its bill closed) beats an open one, then the source first in precedence wins
    (open_finance, pluggy, bank_statement); `other_source_transaction_ids` keeps the others
    ('<source>:<transaction_id>'). Rows of one source are never merged with each other. -#}
with

transactions as (

    select
        *,
        toDate(transaction_datetime, 'America/Sao_Paulo') as transaction_date
    from {{ ref('stg_bank__credit_card_transactions_unioned') }}

),

occurrences as (

    select
        *,
        row_number() over (
            partition by
                source_precedence, card_account_key, transaction_date, brazilian_currency, signed_brazilian_amount
            order by transaction_datetime, source_institution, source_credit_card_account_id, transaction_id
        ) as occurrence
    from transactions

),

matched as (

    select
        *,
        concat(
            card_account_key, '|', toString(transaction_date), '|', brazilian_currency, '|',
            toString(signed_brazilian_amount), '|', toString(occurrence)
        ) as movement_match_key
    from occurrences

),

{{ bank_movement_winner(prefer='bill_id is not null', source_account='source_credit_card_account_id', helper_columns=['occurrence']) }}

select * from final
