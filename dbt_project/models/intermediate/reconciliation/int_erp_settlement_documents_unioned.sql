{{ config(materialized='table', order_by=['erp_document_key']) }}
{#- One row per ERP record that says money moved through the bank: a payable settlement, a (partly) paid
    receivable, and each customs tax component of an import declaration (README.md).
    Every rule model and the mart read it: a table, so they do not each re-run the ERP deduplications. -#}
with

payable_settlements as (

    select * from {{ ref('stg_erp__payable_settlements') }}

),

payables as (

    select * from {{ ref('stg_erp__payables') }}

),

suppliers as (

    select * from {{ ref('stg_erp__suppliers') }}

),

receivables as (

    select * from {{ ref('stg_erp__receivables') }}

),

customers as (

    select * from {{ ref('stg_erp__customers') }}

),

import_declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

settled_payables as (

    -- money out: one row per settlement, with the FX contract the ERP recorded (NULL for a BRL TED/PIX)
    select
        concat('PAYABLE:', payables.payable_id, ':', payable_settlements.settlement_id) as erp_document_key,
        'PAYABLE' as erp_document_type,
        payables.payable_id as erp_document_id,
        toNullable(payable_settlements.settlement_id) as erp_settlement_id,
        cast(null as Nullable(String)) as erp_component,
        'DEBITO' as credit_debit_type,
        payable_settlements.settled_date as erp_date,
        payable_settlements.settled_date - {{ var('reconciliation_date_window_days') }} as erp_window_start,
        payables.supplier_id as counterparty_id,
        if(
            suppliers.tax_id_type = 'FOREIGN',
            suppliers.tax_id,
            replaceRegexpAll(suppliers.tax_id, '[^0-9]', '')
        ) as counterparty_tax_id,
        suppliers.supplier_name as counterparty_name,
        payable_settlements.fx_contract_id as fx_contract_number,
        cast(null as Nullable(String)) as customs_reference,
        payable_settlements.currency as erp_currency,
        payable_settlements.amount as erp_amount,
        payable_settlements.brl_amount as erp_amount_brl,
        true as expects_bank_movement,
        payables.status = 'CANCELLED' as is_cancelled
    from payable_settlements
    inner join payables on payable_settlements.payable_id = payables.payable_id
    inner join suppliers on payables.supplier_id = suppliers.supplier_id
    where not payable_settlements.is_deleted and not payables.is_deleted

),

paid_receivables as (

    -- money in: the ERP keeps one row per instalment with what was paid so far and the last payment date, so a
    -- receivable paid in parts is one document whose payments may lie anywhere from its issue date on
    select
        concat('RECEIVABLE:', receivables.receivable_id) as erp_document_key,
        'RECEIVABLE' as erp_document_type,
        receivables.receivable_id as erp_document_id,
        cast(null as Nullable(String)) as erp_settlement_id,
        cast(null as Nullable(String)) as erp_component,
        'CREDITO' as credit_debit_type,
        assumeNotNull(receivables.paid_date) as erp_date,
        least(receivables.issue_date, assumeNotNull(receivables.paid_date)) as erp_window_start,
        receivables.customer_id as counterparty_id,
        replaceRegexpAll(customers.cnpj, '[^0-9]', '') as counterparty_tax_id,
        customers.customer_name as counterparty_name,
        cast(null as Nullable(String)) as fx_contract_number,
        cast(null as Nullable(String)) as customs_reference,
        'BRL' as erp_currency,
        assumeNotNull(receivables.paid_amount_brl) as erp_amount,
        assumeNotNull(receivables.paid_amount_brl) as erp_amount_brl,
        true as expects_bank_movement,
        receivables.status = 'CANCELLED' as is_cancelled
    from receivables
    inner join customers on receivables.customer_id = customers.customer_id
    where not receivables.is_deleted and receivables.paid_date is not null and receivables.paid_amount_brl > 0

),

declarations as (

    select
        import_declarations.declaration_id as declaration_id,
        import_declarations.registration_date as registration_date,
        import_declarations.ii_brl + import_declarations.ipi_brl + import_declarations.pis_brl
        + import_declarations.cofins_brl + import_declarations.siscomex_fee_brl as siscomex_brl,
        import_declarations.icms_brl as icms_brl,
        import_declarations.afrmm_brl as afrmm_brl,
        shipments.bill_of_lading as bill_of_lading
    from import_declarations
    inner join shipments on import_declarations.shipment_id = shipments.shipment_id
    where not import_declarations.is_deleted

),

declaration_components as (

    -- on registration Siscomex debits II, IPI, PIS, COFINS and the Siscomex fee from the importer's account in one
    -- automatic debit (IN SRF 680/2006), naming the DI/DUIMP; ICMS goes by the state's GARE and AFRMM (Lei 10.893/2004)
    -- by the Mercante system, which names the bill of lading
    select
        declaration_id,
        registration_date,
        component.1 as component_name,
        component.2 as component_reference,
        component.3 as component_amount_brl
    from declarations
    array join [
        ('SISCOMEX', declaration_id, siscomex_brl),
        ('ICMS', declaration_id, icms_brl),
        ('AFRMM', bill_of_lading, afrmm_brl)
    ] as component

),

declared_taxes as (

    select
        concat('IMPORT_DECLARATION:', declaration_id, ':', component_name) as erp_document_key,
        'IMPORT_DECLARATION' as erp_document_type,
        declaration_id as erp_document_id,
        cast(null as Nullable(String)) as erp_settlement_id,
        toNullable(component_name) as erp_component,
        'DEBITO' as credit_debit_type,
        registration_date as erp_date,
        registration_date - {{ var('reconciliation_date_window_days') }} as erp_window_start,
        cast(null as Nullable(String)) as counterparty_id,
        cast(null as Nullable(String)) as counterparty_tax_id,
        cast(null as Nullable(String)) as counterparty_name,
        cast(null as Nullable(String)) as fx_contract_number,
        toNullable(component_reference) as customs_reference,
        'BRL' as erp_currency,
        component_amount_brl as erp_amount,
        component_amount_brl as erp_amount_brl,
        -- a component the ERP recorded as zero expects no debit, but still matches one that names it
        component_amount_brl > 0 as expects_bank_movement,
        false as is_cancelled
    from declaration_components

),

unioned as (

    select * from settled_payables
    union all
    select * from paid_receivables
    union all
    select * from declared_taxes

),

final as (

    select
        erp_document_key,
        cast(erp_document_type as LowCardinality(String)) as erp_document_type,
        erp_document_id,
        erp_settlement_id,
        cast(erp_component as LowCardinality(Nullable(String))) as erp_component,
        cast(credit_debit_type as LowCardinality(String)) as credit_debit_type,
        erp_date,
        erp_window_start,
        counterparty_id,
        counterparty_tax_id,
        counterparty_name,
        fx_contract_number,
        customs_reference,
        cast(erp_currency as LowCardinality(String)) as erp_currency,
        cast(erp_amount as Decimal(18, 4)) as erp_amount,
        cast(erp_amount_brl as Decimal(18, 4)) as erp_amount_brl,
        cast(expects_bank_movement as Bool) as expects_bank_movement,
        -- the ERP cancelled a document money already moved for: matched, but a person must look (a refund?)
        cast(is_cancelled as Bool) as is_cancelled
    from unioned

)

select * from final
