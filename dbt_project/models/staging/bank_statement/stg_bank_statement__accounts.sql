{#- One row per account read from the statement files: the latest file's view. Same columns and types as
    stg_open_finance__accounts, plus the statement's own. -#}
with

source as (

    select
        *,
        -- the holder's CNPJ as any file of the account gave it (CNAB 240 does, OFX does not)
        max(coalesce(company_cnpj, '')) over (partition by institution, account_id) as holder_cnpj
    from {{ source('bank_statement', 'bank_statement__accounts') }}

),

renamed as (

    select
        cast(institution as LowCardinality(String)) as institution,
        cast(account_id as String) as account_id,
        cast(brand_name as String) as brand_name,
        -- an OFX file does not name the account holder: empty unless a CNAB 240 file of the account did
        cast(holder_cnpj as String) as company_cnpj,
        cast(account_type as LowCardinality(String)) as account_type,
        cast(compe_code as String) as compe_code,
        cast(branch_code as Nullable(String)) as branch_code,
        cast(number as String) as number,
        cast(coalesce(check_digit, '') as String) as check_digit,
        cast(
            toJSONString(map(
                'statement_format', statement_format,
                'compe_code', compe_code,
                'branch_code', coalesce(branch_code, ''),
                'number', number,
                'check_digit', coalesce(source.check_digit, ''),
                'company_cnpj', coalesce(source.company_cnpj, ''),
                'company_name', coalesce(company_name, ''),
                'currency', currency
            )) as String
        ) as raw_json,
        cast(_partition_date as Date) as pull_date,
        cast(_loaded_at as DateTime64(3, 'UTC')) as loaded_at,
        cast(_source_file as String) as source_file,
        cast(statement_format as LowCardinality(String)) as statement_format,
        cast(currency as LowCardinality(String)) as currency,
        cast(statement_start as Nullable(Date)) as statement_start,
        cast(statement_end as Nullable(Date)) as statement_end,
        cast(source.source_file as String) as statement_file,
        cast(file_sha256 as String) as file_sha256,
        cast(_arrived_at as DateTime64(3, 'UTC')) as arrived_at
    from source

),

latest as (

    select *
    from renamed
    order by arrived_at desc, statement_file desc
    limit 1 by institution, account_id

)

select * from latest
