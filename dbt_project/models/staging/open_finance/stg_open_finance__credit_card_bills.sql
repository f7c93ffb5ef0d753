{#- One row per credit-card bill (fatura): the latest pull that listed it (each pull lists the bills due in its
    window and the 45 days after, so a bill is re-read until it falls behind the window). Exactly the bank contract's
    columns (`isInstalment`, the payments and finance charges stay in `raw_json`). -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__credit_card_bills') }}

),

renamed as (

    select
        {{- bank_contract_columns('credit_card_bills') }}
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, credit_card_account_id, bill_id

)

select * from latest
