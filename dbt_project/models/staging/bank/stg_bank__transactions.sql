{#- A table, not a view: the cross-source matching below ran again for each of its data tests and each model
    reading it (dbt_project/README.md, "Which models are tables"). -#}
{{ config(materialized='table', order_by=['institution', 'account_id', 'booking_date', 'transaction_id']) }}
{#- One row per bank movement, whichever sources saw it (README.md, "One movement, one row"). Two rows of
    different sources are the same movement when they share the account (`bank_account_key`), `booking_date`,
    `currency` and `signed_amount`, and:
      1. the same counterparty document (`partie_cnpj_cpf`, digits), matched 1:1 by occurrence: the n-th such row
         of one source (by time, then id) is the n-th of the other, so two genuine equal movements stay two;
      2. else, among the rows step 1 left unmatched, the n-th of one source is the n-th of the other (rows with a
         document first), unless two of them name different documents: then each stays its own movement.
    Within a movement a posted row (`TRANSACAO_EFETIVADA`) beats a pending one, then the source first in
    precedence wins (open_finance, pluggy, bank_statement); `other_source_transaction_ids` keeps the others
    ('<source>:<transaction_id>'). Rows of one source are never merged with each other: each source's staging
    already deduplicates its own deliveries.
    The matching runs on the columns it needs (`keys`); the other columns (the raw JSON above all) join back once,
    to the winners. Carried through its four window stages, the whole rows made this model the largest query of
    the build: 0.8 GB of the dbt process's 1.6 GB at scale 30 (benchmarks/README.md).
-#}
with

transactions as (

    select * from {{ ref('stg_bank__transactions_unioned') }}

),

keys as (

    select
        bank_source, source_institution, source_account_id, transaction_id, source_precedence, status,
        bank_account_key, booking_date, currency, signed_amount, partie_cnpj_cpf, transaction_datetime
    from transactions

),

documented as (

    select
        *,
        replaceRegexpAll(coalesce(partie_cnpj_cpf, ''), '[^0-9]', '') as counterparty_document
    from keys

),

document_occurrences as (

    select
        *,
        row_number() over (
            partition by
                source_precedence, bank_account_key, booking_date, currency, signed_amount, counterparty_document
            order by transaction_datetime, source_institution, source_account_id, transaction_id
        ) as document_occurrence
    from documented

),

document_matches as (

    -- step 1: the same counterparty document, occurrence by occurrence, seen by more than one source
    select
        *,
        counterparty_document != ''
        and uniqExact(source_precedence) over (
            partition by
                bank_account_key, booking_date, currency, signed_amount, counterparty_document, document_occurrence
        ) > 1 as is_document_matched
    from document_occurrences

),

leftover_occurrences as (

    select
        *,
        row_number() over (
            partition by
                is_document_matched, source_precedence, bank_account_key, booking_date, currency, signed_amount
            order by
                counterparty_document = '', counterparty_document, transaction_datetime, source_institution,
                source_account_id, transaction_id
        ) as leftover_occurrence
    from document_matches

),

leftover_conflicts as (

    -- step 2 gives way when the rows it would pair name different counterparty documents
    select
        *,
        uniqExactIf(counterparty_document, counterparty_document != '') over (
            partition by
                is_document_matched, bank_account_key, booking_date, currency, signed_amount, leftover_occurrence
        ) > 1 as has_conflicting_documents
    from leftover_occurrences

),

matched as (

    select
        *,
        multiIf(
            is_document_matched,
            concat(
                'document|', bank_account_key, '|', toString(booking_date), '|', currency, '|',
                toString(signed_amount), '|', counterparty_document, '|', toString(document_occurrence)
            ),
            has_conflicting_documents,
            concat('own|', bank_source, '|', source_institution, '|', source_account_id, '|', transaction_id),
            concat(
                'amount|', bank_account_key, '|', toString(booking_date), '|', currency, '|',
                toString(signed_amount), '|', toString(leftover_occurrence)
            )
        ) as movement_match_key
    from leftover_conflicts

),

{{ bank_movement_winner(prefer="status = 'TRANSACAO_EFETIVADA'", source_account='source_account_id', helper_columns=['counterparty_document', 'document_occurrence', 'is_document_matched', 'leftover_occurrence', 'has_conflicting_documents']) }}

select
    transactions.* except (source_precedence),
    winners.movement_match_key,
    winners.other_source_transaction_ids
from transactions
inner join final as winners
    on
        transactions.bank_source = winners.bank_source
        and transactions.source_institution = winners.source_institution
        and transactions.source_account_id = winners.source_account_id
        and transactions.transaction_id = winners.transaction_id
