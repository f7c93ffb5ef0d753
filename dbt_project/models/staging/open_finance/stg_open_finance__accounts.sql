{#- One row per account: the latest pull's view (accounts are re-listed whole by every pull). -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__accounts') }}

),

renamed as (

    select
        {{- bank_contract_columns('accounts') }}
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id

)

select * from latest
