{#- One row per credit-card account: the latest pull's view (cards are re-listed whole by every pull). Open Finance
    names neither the card's bank code nor its number on the account, so the bank staging's card identity takes
    them from the same consent: `compe_code` is the COMPE code of the institution's deposit accounts (when they
    agree on one), `card_last4` the card number its transactions carry most (`identificationNumber`, the last four
    digits). -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__credit_card_accounts') }}

),

institution_codes as (

    select
        institution as code_institution,
        if(uniqExact(compe_code) = 1, any(compe_code), null) as institution_compe_code
    from {{ ref('stg_open_finance__accounts') }}
    group by institution

),

card_numbers as (

    select
        institution as number_institution,
        credit_card_account_id as number_card_id,
        identification_number as card_number,
        count() as transactions
    from {{ ref('stg_open_finance__credit_card_transactions') }}
    where match(identification_number, '^[0-9]{4}$')
    group by institution, credit_card_account_id, identification_number
    order by transactions desc, card_number asc
    limit 1 by institution, credit_card_account_id

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_accounts', {
            'compe_code': "institution_codes.institution_compe_code",
            'card_last4': "nullIf(card_numbers.card_number, '')",
        }) }}
    from source
    -- no join_use_nulls: a card without a numbered transaction meets the empty number
    left join institution_codes on source.institution = institution_codes.code_institution
    left join card_numbers
        on
            source.institution = card_numbers.number_institution
            and source.credit_card_account_id = card_numbers.number_card_id

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id

)

select * from latest
