{#- A table, not a view, as stg_bank__transactions: its data tests re-planned the cross-source chain each time
    (dbt_project/README.md, "Which models are tables"). No order_by: its keys are Nullable, and it is small. -#}
{{ config(materialized='table') }}
{#- One row per credit card (`card_account_key`), whichever sources see it: the row of the source first in
    precedence (open_finance, pluggy, bank_statement) gives the card's `institution` and `credit_card_account_id`,
    which stg_bank__credit_card_transactions and stg_bank__credit_card_bills use for every source's rows of that
    card; `source_card_account_ids` lists each source's own id ('<source>:<institution>:<credit_card_account_id>').
    A card a source cannot key (no bank code or no card number: an empty key) is its own card, keyed
    '<source>:<institution>:<credit_card_account_id>'. -#}
with

accounts as (

    select
        * except (card_account_key),
        if(
            card_account_key = '',
            concat(bank_source, ':', institution, ':', credit_card_account_id),
            card_account_key
        ) as card_account_key
    from {{ ref('stg_bank__credit_card_accounts_unioned') }}

),

source_ids as (

    select
        card_account_key as ids_card_key,
        arraySort(groupArray(concat(bank_source, ':', institution, ':', credit_card_account_id)))
            as source_card_account_ids
    from accounts
    group by card_account_key

),

first_in_precedence as (

    select *
    from accounts
    order by source_precedence, institution, credit_card_account_id
    limit 1 by card_account_key

),

final as (

    select
        first_in_precedence.bank_source as bank_source,
        first_in_precedence.institution as institution,
        first_in_precedence.credit_card_account_id as credit_card_account_id,
        first_in_precedence.brand_name as brand_name,
        first_in_precedence.name as name,
        first_in_precedence.product_type as product_type,
        first_in_precedence.credit_card_network as credit_card_network,
        first_in_precedence.compe_code as compe_code,
        first_in_precedence.card_last4 as card_last4,
        first_in_precedence.raw_json as raw_json,
        first_in_precedence.pull_date as pull_date,
        first_in_precedence.loaded_at as loaded_at,
        first_in_precedence.source_file as source_file,
        first_in_precedence.card_account_key as card_account_key,
        source_ids.source_card_account_ids as source_card_account_ids
    from first_in_precedence
    inner join source_ids on first_in_precedence.card_account_key = source_ids.ids_card_key

)

select * from final
