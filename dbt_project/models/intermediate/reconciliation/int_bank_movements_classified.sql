{{ config(materialized='table', order_by=['bank_movement_key']) }}
{#- One row per posted bank movement (Open Finance account transaction), with what its statement text and
    counterparty say about it: the FX contract number it settles, the customs reference it pays, its role and
    category (README.md).
    Every rule model and the mart read it: a table, so they do not each re-run the Open Finance deduplication. -#}
with

transactions as (

    select * from {{ ref('stg_open_finance__transactions') }}

),

fx_operations as (

    select * from {{ ref('stg_open_finance__fx_operations') }}

),

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

customers as (

    select * from {{ ref('stg_erp__customers') }}

),

known_tax_ids as (

    -- the Brazilian tax ids (digits only) the ERP knows as a supplier or a customer
    select replaceRegexpAll(tax_id, '[^0-9]', '') as tax_id
    from suppliers
    where tax_id_type != 'FOREIGN' and not is_deleted
    union distinct
    select replaceRegexpAll(cnpj, '[^0-9]', '') as tax_id
    from customers
    where not is_deleted

),

posted as (

    -- future-dated (LANCAMENTO_FUTURO) and processing entries are not movements yet
    select
        concat(institution, ':', account_id, ':', transaction_id) as bank_movement_key,
        institution,
        account_id,
        transaction_id as bank_transaction_id,
        booking_date,
        transaction_datetime,
        credit_debit_type,
        transaction_type,
        transaction_name,
        amount as amount_brl,
        nullIf(replaceRegexpAll(coalesce(partie_cnpj_cpf, ''), '[^0-9]', ''), '') as counterparty_tax_id,
        upperUTF8(transaction_name) as text
    from transactions
    where status = 'TRANSACAO_EFETIVADA' and currency = 'BRL'

),

parsed as (

    select
        *,
        -- an FX contract (câmbio) movement names its contract number: "CAMBIO IMPORTACAO CONTR 123456789012",
        -- "IOF S/ CAMBIO CONTR ...", "TARIFA CONTRATO CAMBIO ..."
        if(
            position(text, 'CAMBIO') > 0,
            nullIf(extract(text, '[0-9]{6,}'), ''),
            cast(null as Nullable(String))
        ) as fx_contract_number,
        -- customs: the Receita's Siscomex debit and the state's GARE name the DI/DUIMP, AFRMM names the B/L
        multiIf(
            match(text, '^DEBITO SISCOMEX'), 'SISCOMEX',
            match(text, '^GARE ICMS'), 'ICMS',
            match(text, '^AFRMM'), 'AFRMM',
            cast(null as Nullable(String))
        ) as tax_component
    from posted

),

classified as (

    select
        bank_movement_key,
        institution,
        account_id,
        bank_transaction_id,
        booking_date,
        transaction_datetime,
        credit_debit_type,
        transaction_type,
        transaction_name,
        amount_brl,
        counterparty_tax_id,
        fx_contract_number,
        cast(coalesce(fx_contract_number in (select operation_number from fx_operations), false) as Bool)
        as is_fx_contract_at_bank,
        tax_component,
        if(
            tax_component is not null,
            nullIf(arrayElement(splitByWhitespace(text), -1), ''),
            cast(null as Nullable(String))
        ) as customs_reference,
        cast(multiIf(
            fx_contract_number is not null, 'FX_CONTRACT',
            tax_component is not null, 'CUSTOMS_TAX',
            transaction_type in ('PACOTE_TARIFA_SERVICOS', 'TARIFA_SERVICOS_AVULSOS'), 'BANK_FEE',
            match(text, '^PAGTO FATURA'), 'CARD_BILL',
            counterparty_tax_id is not null, 'TRANSFER',
            'OTHER'
        ) as LowCardinality(String)) as bank_category,
        cast(multiIf(
            fx_contract_number is not null and match(text, 'IOF E TARIFA'), 'PRINCIPAL_IOF_FEE',
            fx_contract_number is not null and match(text, '^IOF'), 'IOF',
            fx_contract_number is not null and match(text, '^TARIFA'), 'FEE',
            tax_component is not null, 'TAX',
            'PRINCIPAL'
        ) as LowCardinality(String)) as bank_role,
        cast(
            counterparty_tax_id is not null and counterparty_tax_id in (select tax_id from known_tax_ids) as Bool
        ) as is_counterparty_known
    from parsed

)

select * from classified
