{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 10, NAME_AND_AMOUNT: a transfer the CNPJ rules cannot place (the bank left the counterparty CNPJ out, or
    it names a CNPJ the ERP does not know: a typo) with exactly the BRL amount of a document, in the same direction,
    within the date window. The evidence decides the confidence (README.md):
    - strong: the CNPJ is one digit away from the document's, or the counterparty name in the text matches the
      document's name token by token (abbreviations, one-letter typos and case allowed): 0.90 - 0.02/day;
    - weak: only the amount and the date (a boleto names nobody, or the name differs): 0.60 - 0.02/day, which is
      below the review threshold, so the mart proposes the pair as NEEDS_REVIEW and never as a match.
    One row per candidate pair; `int_reconciliation_links_ranked` keeps the best pair of each movement and
    document (highest confidence, then closest date). -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

unplaced_transfers as (

    select
        *,
        -- words of the name, letters and digits only (accents kept), so "DESP." meets "DESPACHOS"
        arrayFilter(
            word -> word != '',
            arrayMap(word -> replaceRegexpAll(word, '[^\\p{L}\\p{N}]', ''), splitByWhitespace(counterparty_text))
        ) as bank_words
    from bank_movements
    where bank_category = 'TRANSFER' and (counterparty_tax_id is null or not is_counterparty_known)

),

brl_documents as (

    select
        *,
        arrayFilter(
            word -> word != '',
            arrayMap(
                word -> replaceRegexpAll(word, '[^\\p{L}\\p{N}]', ''),
                splitByWhitespace(upperUTF8(coalesce(counterparty_name, '')))
            )
        ) as erp_words
    from erp_documents
    where counterparty_tax_id is not null and erp_currency = 'BRL' and fx_contract_number is null

),

paired as (

    select
        unplaced_transfers.bank_movement_key as bank_movement_key,
        brl_documents.erp_document_key as erp_document_key,
        dateDiff('day', brl_documents.erp_date, unplaced_transfers.booking_date) as date_difference_days,
        unplaced_transfers.counterparty_tax_id is not null
        and length(unplaced_transfers.counterparty_tax_id) = length(brl_documents.counterparty_tax_id)
        and editDistance(unplaced_transfers.counterparty_tax_id, brl_documents.counterparty_tax_id) = 1
        as is_cnpj_one_digit_off,
        -- a word matches when one is an abbreviation of the other (a prefix of 3+ letters) or they differ by one
        -- typo (a letter changed, dropped, added or two swapped); the share is taken both ways and the lower kept,
        -- so "SOUZA PECAS LTDA" never passes for "CARVALHO PECAS LTDA"
        least(
            arrayCount(
                bank_word -> arrayExists(
                    erp_word -> (length(bank_word) >= 3 and startsWith(erp_word, bank_word))
                    or (length(erp_word) >= 4 and damerauLevenshteinDistance(erp_word, bank_word) <= 1),
                    brl_documents.erp_words
                ),
                unplaced_transfers.bank_words
            ) / greatest(length(unplaced_transfers.bank_words), 1),
            arrayCount(
                erp_word -> arrayExists(
                    bank_word -> (length(bank_word) >= 3 and startsWith(erp_word, bank_word))
                    or (length(erp_word) >= 4 and damerauLevenshteinDistance(erp_word, bank_word) <= 1),
                    unplaced_transfers.bank_words
                ),
                brl_documents.erp_words
            ) / greatest(length(brl_documents.erp_words), 1)
        ) as name_similarity
    from unplaced_transfers
    inner join brl_documents
        on
            unplaced_transfers.credit_debit_type = brl_documents.credit_debit_type
            and unplaced_transfers.amount_brl = brl_documents.erp_amount_brl
    where abs(date_difference_days) <= {{ var('reconciliation_date_window_days') }}

),

final as (

    select
        'NAME_AND_AMOUNT' as match_rule,
        toUInt8(10) as rule_priority,
        concat('NAME:', bank_movement_key) as match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(0 as Decimal(18, 4))) as amount_difference_brl,
        cast(
            toDecimal32(
                greatest(
                    if(is_cnpj_one_digit_off or name_similarity >= 0.8, 90, 60) - 2 * abs(date_difference_days), 0
                ),
                2
            ) / 100 as Decimal(3, 2)
        ) as confidence,
        cast(false as Bool) as needs_investigation,
        multiIf(
            is_cnpj_one_digit_off,
            'same amount; the bank''s counterparty CNPJ is one digit off the document''s (a typo)',
            name_similarity >= 0.8,
            concat('same amount; no usable CNPJ, the counterparty name matches (', toString(round(name_similarity, 2)), ')'),
            'same amount and date window only: no CNPJ and no matching name, for a person to confirm'
        ) as reason
    from paired

)

select * from final
