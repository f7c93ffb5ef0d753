{#- A table, not a view, as stg_bank__transactions: its data tests re-planned the cross-source chain each time
    (dbt_project/README.md, "Which models are tables"). No order_by: its keys are Nullable, and it is small. -#}
{{ config(materialized='table') }}
{#- One row per credit-card bill (fatura): a card (`card_account_key`, with its stg_bank__credit_card_accounts ids)
    and due date. Open Finance and Pluggy give bills (an OFX card statement has no due date, so statement files give
    none); when both list a card's bill due the same day, the source first in precedence wins and
    `also_in_sources` names the other with its bill id ('<source>:<bill_id>'). -#}
with

source_bills as (

    {{ bank_source_union('credit_card_bills', having=['open_finance', 'pluggy']) }}

),

source_cards as (

    select bank_source, institution, credit_card_account_id, card_account_key
    from {{ ref('stg_bank__credit_card_accounts_unioned') }}

),

cards as (

    select card_account_key, institution, credit_card_account_id
    from {{ ref('stg_bank__credit_card_accounts') }}

),

keyed as (

    select
        source_bills.*,
        -- no join_use_nulls: a card its source does not list (or cannot key) meets the empty key
        if(
            source_cards.card_account_key = '',
            concat(source_bills.bank_source, ':', source_bills.institution, ':', source_bills.credit_card_account_id),
            source_cards.card_account_key
        ) as card_account_key
    from source_bills
    left join source_cards
        on
            source_bills.bank_source = source_cards.bank_source
            and source_bills.institution = source_cards.institution
            and source_bills.credit_card_account_id = source_cards.credit_card_account_id

),

sources_per_bill as (

    select
        card_account_key as bill_card_key,
        due_date as bill_due_date,
        groupArray((source_precedence, bank_source, bill_id)) as seen_by
    from keyed
    group by card_account_key, due_date

),

first_in_precedence as (

    select *
    from keyed
    order by source_precedence, institution, credit_card_account_id, bill_id, loaded_at desc
    limit 1 by card_account_key, due_date

),

final as (

    select
        first_in_precedence.bank_source as bank_source,
        cast(if(cards.card_account_key = '', first_in_precedence.institution, cards.institution)
            as LowCardinality(String)) as institution,
        cast(if(cards.card_account_key = '', first_in_precedence.credit_card_account_id, cards.credit_card_account_id)
            as String) as credit_card_account_id,
        first_in_precedence.bill_id as bill_id,
        first_in_precedence.due_date as due_date,
        first_in_precedence.bill_total_amount as bill_total_amount,
        first_in_precedence.bill_total_currency as bill_total_currency,
        first_in_precedence.bill_minimum_amount as bill_minimum_amount,
        first_in_precedence.raw_json as raw_json,
        first_in_precedence.pull_date as pull_date,
        first_in_precedence.loaded_at as loaded_at,
        first_in_precedence.source_file as source_file,
        first_in_precedence.card_account_key as card_account_key,
        first_in_precedence.institution as source_institution,
        first_in_precedence.credit_card_account_id as source_credit_card_account_id,
        cast(
            arrayMap(
                seen -> concat(seen.2, ':', seen.3),
                arraySort(arrayFilter(seen -> seen.2 != first_in_precedence.bank_source, sources_per_bill.seen_by))
            ) as Array(String)
        ) as also_in_sources
    from first_in_precedence
    inner join sources_per_bill
        on
            first_in_precedence.card_account_key = sources_per_bill.bill_card_key
            and first_in_precedence.due_date = sources_per_bill.bill_due_date
    left join cards on first_in_precedence.card_account_key = cards.card_account_key

)

select * from final
