{{ config(order_by=['currency', 'payable_id']) }}
{#- One row per live foreign-currency payable (payable_id): what was settled and what the bank charged for it,
    and, for an import, the declaration whose registration date sets the customs rate (PO -> shipment ->
    declaration; the earliest registration if a PO ever has several). -#}

with

payables as (

    select * from {{ ref('stg_erp__payables') }}

),

settlements as (

    select * from {{ ref('int_treasury_payable_settlements_allocated') }}

),

shipments as (

    select * from {{ ref('stg_erp__shipments') }}

),

declarations as (

    select * from {{ ref('stg_erp__import_declarations') }}

),

fx_payables as (

    select payable_id, supplier_id, po_id, document_type, invoice_date, due_date, currency, amount
    from payables
    where not is_deleted and currency != 'BRL'

),

settled as (

    select
        payable_id,
        count() as settlements_count,
        uniqExact(fx_contract_id) as fx_contracts_count,
        max(settled_date) as last_settled_date,
        sum(amount) as settled_amount,
        sum(paid_principal_brl) as paid_principal_brl,
        -- NULL as soon as one settlement lacks the figure (no VET, or a contract the bank data lacks)
        if(countIf(paid_iof_brl is null) = 0, sum(assumeNotNull(paid_iof_brl)), null) as paid_iof_brl,
        if(countIf(paid_fee_brl is null) = 0, sum(assumeNotNull(paid_fee_brl)), null) as paid_fee_brl,
        countIf(paid_brl_source = 'erp_settlement') as settlements_without_bank_operation
    from settlements
    group by payable_id

),

po_declarations as (

    select
        shipments.po_id as po_id,
        toNullable(declarations.declaration_id) as declaration_id,
        toNullable(declarations.registration_date) as declaration_registration_date
    from declarations
    inner join shipments on shipments.shipment_id = declarations.shipment_id
    where not declarations.is_deleted and not shipments.is_deleted
    order by declarations.registration_date, declarations.declaration_id
    limit 1 by shipments.po_id

),

final as (

    select
        fx_payables.payable_id as payable_id,
        fx_payables.supplier_id as supplier_id,
        fx_payables.po_id as po_id,
        fx_payables.document_type as document_type,
        fx_payables.invoice_date as invoice_date,
        fx_payables.due_date as due_date,
        fx_payables.currency as currency,
        fx_payables.amount as amount,
        po_declarations.declaration_id as declaration_id,
        po_declarations.declaration_registration_date as declaration_registration_date,
        cast(coalesce(settled.settlements_count, 0) as UInt64) as settlements_count,
        cast(coalesce(settled.fx_contracts_count, 0) as UInt64) as fx_contracts_count,
        settled.last_settled_date as last_settled_date,
        cast(coalesce(settled.settled_amount, 0) as Decimal(18, 4)) as settled_amount,
        cast(coalesce(settled.paid_principal_brl, 0) as Decimal(18, 4)) as paid_principal_brl,
        cast(if(settled.payable_id is null, 0, settled.paid_iof_brl) as Nullable(Decimal(18, 4))) as paid_iof_brl,
        cast(if(settled.payable_id is null, 0, settled.paid_fee_brl) as Nullable(Decimal(18, 4))) as paid_fee_brl,
        cast(coalesce(settled.settlements_without_bank_operation, 0) as UInt64) as settlements_without_bank_operation
    from fx_payables
    left join (
        select
            toNullable(payable_id) as payable_id,
            toNullable(settlements_count) as settlements_count,
            toNullable(fx_contracts_count) as fx_contracts_count,
            toNullable(last_settled_date) as last_settled_date,
            toNullable(settled_amount) as settled_amount,
            toNullable(paid_principal_brl) as paid_principal_brl,
            paid_iof_brl,
            paid_fee_brl,
            toNullable(settlements_without_bank_operation) as settlements_without_bank_operation
        from settled
    ) as settled on settled.payable_id = fx_payables.payable_id
    left join po_declarations on po_declarations.po_id = fx_payables.po_id

)

select * from final
