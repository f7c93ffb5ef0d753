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
        -- company_cnpj: an OFX file does not name the account holder, empty unless a CNAB 240 file of the account did
        {{ bank_contract_columns('accounts', {
            'company_cnpj': "holder_cnpj",
            'check_digit': "coalesce(check_digit, '')",
            'raw_json': "toJSONString(map(
                'statement_format', statement_format,
                'compe_code', compe_code,
                'branch_code', coalesce(branch_code, ''),
                'number', number,
                'check_digit', coalesce(source.check_digit, ''),
                'company_cnpj', coalesce(source.company_cnpj, ''),
                'company_name', coalesce(company_name, ''),
                'currency', currency
            ))",
        }) }},
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
