{#- One row per account: the latest pull's view (accounts are re-listed whole by every pull). -#}
with

source as (

    select * from {{ source('open_finance', 'open_finance__accounts') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(brand_name as String) as brand_name,
        cast(company_cnpj as String) as company_cnpj,
        cast(account_type as LowCardinality(String)) as account_type,
        cast(compe_code as String) as compe_code,
        cast(branch_code as Nullable(String)) as branch_code,
        cast(number as String) as number,
        cast(check_digit as String) as check_digit,
        cast(raw_json as String) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file
    from source

),

latest as (

    select *
    from renamed
    order by pull_date desc, loaded_at desc, source_file desc
    limit 1 by institution, account_id

)

select * from latest
