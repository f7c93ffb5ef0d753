{{ config(materialized='table', order_by=['bank_movement_key']) }}
{#- One row per posted bank movement (Open Finance account transaction), with what its statement text and
    counterparty say about it: the FX contract number it settles, the customs reference it pays, its role and
    category (README.md).
    Every rule model and the mart read it: a table, so they do not each re-run the Open Finance deduplication. -#}
with

transactions as (

    select * from {{ ref('stg_bank__transactions') }}

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
        ) as tax_component,
        -- a transfer's text names its counterparty after the kind of transfer ("TED ENVIADA ACME LTDA"); a
        -- returned one says so first ("DEVOLUCAO TED ACME LTDA", "ESTORNO PIX ACME LTDA")
        match(text, '^(DEVOLUCAO|ESTORNO)') as is_return,
        trimBoth(replaceRegexpOne(
            text, '^((DEVOLUCAO|ESTORNO) )?(TED ENVIADA|TED RECEBIDA|TED|PIX ENVIADO|PIX RECEBIDO|PIX) ?', ''
        )) as counterparty_text,
        -- one debit paying several suppliers' invoices: "PAGTO FORNECEDORES LOTE 0001 3 TITULOS"
        if(
            match(text, '^PAGTO FORNECEDORES LOTE'),
            toUInt32OrNull(extract(text, '([0-9]+) TITULOS')),
            cast(null as Nullable(UInt32))
        ) as batch_item_count
    from posted

),

returns as (

    -- a returned transfer (DEVOLUCAO, ESTORNO) and the transfer it returns: the opposite direction, same account,
    -- amount and counterparty, on or before it within the window, the closest first. Both settle nothing.
    select
        returned.bank_movement_key as return_key,
        original.bank_movement_key as original_key
    from parsed as returned
    inner join parsed as original
        on
            returned.account_id = original.account_id
            and returned.amount_brl = original.amount_brl
            and returned.credit_debit_type != original.credit_debit_type
            and coalesce(returned.counterparty_tax_id, '') = coalesce(original.counterparty_tax_id, '')
    where
        returned.is_return
        and not original.is_return
        and original.booking_date between returned.booking_date - {{ var('reconciliation_date_window_days') }}
        and returned.booking_date
        and (original.transaction_datetime, original.bank_movement_key)
        < (returned.transaction_datetime, returned.bank_movement_key)
    order by original.booking_date desc, original.transaction_datetime desc, original.bank_movement_key
    limit 1 by returned.bank_movement_key

),

returned_pairs as (

    select return_key as returned_key, original_key as paired_key from returns
    union all
    select original_key as returned_key, return_key as paired_key from returns
    limit 1 by returned_key

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
            returned_pairs.paired_key != '', 'RETURNED',
            batch_item_count is not null, 'BATCH_PAYMENT',
            -- a transfer whose counterparty CNPJ the bank left out is still a transfer (matched by name)
            counterparty_tax_id is not null or transaction_type in ('TED', 'PIX', 'BOLETO', 'DOC', 'TEF'),
            'TRANSFER',
            'OTHER'
        ) as LowCardinality(String)) as bank_category,
        nullIf(returned_pairs.paired_key, '') as returned_pair_key,
        counterparty_text,
        batch_item_count,
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
    left join returned_pairs on parsed.bank_movement_key = returned_pairs.returned_key

)

select * from classified
