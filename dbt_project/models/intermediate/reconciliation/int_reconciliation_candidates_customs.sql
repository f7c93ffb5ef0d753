{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 2, CUSTOMS_REFERENCE: a customs tax debit that names a DI/DUIMP (Siscomex federal taxes, ICMS GARE)
    or a bill of lading (AFRMM) links to that component of the ERP's import declaration. One row per bank
    movement × declaration component; the amount difference is what the ERP recorded wrong. -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

tax_debits as (

    select *
    from bank_movements
    where bank_category = 'CUSTOMS_TAX' and credit_debit_type = 'DEBITO' and customs_reference is not null

),

declared_taxes as (

    select *
    from erp_documents
    where erp_document_type = 'IMPORT_DECLARATION'

),

paired as (

    select
        tax_debits.bank_movement_key as bank_movement_key,
        declared_taxes.erp_document_key as erp_document_key,
        declared_taxes.erp_document_id as declaration_id,
        assumeNotNull(declared_taxes.erp_component) as erp_component,
        dateDiff('day', declared_taxes.erp_date, tax_debits.booking_date) as date_difference_days,
        tax_debits.amount_brl - declared_taxes.erp_amount_brl as amount_difference_brl
    from tax_debits
    inner join declared_taxes
        on
            tax_debits.customs_reference = declared_taxes.customs_reference
            and tax_debits.tax_component = declared_taxes.erp_component

),

final as (

    select
        'CUSTOMS_REFERENCE' as match_rule,
        toUInt8(2) as rule_priority,
        concat('CUSTOMS:', bank_movement_key) as match_group_id,
        bank_movement_key,
        erp_document_key,
        toInt32(date_difference_days) as date_difference_days,
        toNullable(cast(amount_difference_brl as Decimal(18, 4))) as amount_difference_brl,
        cast('0.99' as Decimal(3, 2)) as confidence,
        cast(amount_difference_brl != 0 as Bool) as needs_investigation,
        if(
            amount_difference_brl = 0,
            concat(erp_component, ' of ', declaration_id, ' debited as recorded'),
            concat(erp_component, ' of ', declaration_id, ': the debit differs from the tax the ERP recorded')
        ) as reason
    from paired

)

select * from final
