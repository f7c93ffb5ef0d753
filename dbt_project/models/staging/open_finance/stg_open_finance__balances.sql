{#- One row per account and balance snapshot; every pull re-reads the current balance, the latest pull wins. -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__balances') }}

),

renamed as (

    select
        {{- bank_contract_columns('balances') }}
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id, update_datetime

)

select * from latest
