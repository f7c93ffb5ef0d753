{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 1, FX_CONTRACT_REFERENCE: every debit that names an FX contract number (principal, IOF, fee, or one
    bundled debit) links to every ERP payable settlement that recorded that contract. One row per bank movement
    × settlement; one contract may settle several payables (one-to-many) and one payable may be settled by
    several contracts (partial payments). -#}
with

fx_debits as (

    select * from {{ ref('int_bank_movements_classified') }}
    where bank_category = 'FX_CONTRACT' and credit_debit_type = 'DEBITO'

),

settlements as (

    select * from {{ reconciliation_fx_settlements() }}

),

bank_per_contract as (

    -- the BRL the contract cost at the bank, without its separate IOF and fee debits
    select
        fx_contract_number,
        sumIf(amount_brl, bank_role in ('PRINCIPAL', 'PRINCIPAL_IOF_FEE')) as principal_brl,
        countIf(bank_role = 'PRINCIPAL_IOF_FEE') > 0 as is_bundled
    from fx_debits
    group by fx_contract_number

),

erp_per_contract as (

    select
        fx_contract_number,
        sum(erp_amount_brl) as erp_brl
    from settlements
    group by fx_contract_number

),

contract_differences as (

    select
        bank_per_contract.fx_contract_number as fx_contract_number,
        bank_per_contract.principal_brl - erp_per_contract.erp_brl as amount_difference_brl,
        bank_per_contract.is_bundled as is_bundled
    from bank_per_contract
    inner join erp_per_contract on bank_per_contract.fx_contract_number = erp_per_contract.fx_contract_number

),

paired as (

    select
        fx_debits.bank_movement_key as bank_movement_key,
        settlements.erp_document_key as erp_document_key,
        assumeNotNull(fx_debits.fx_contract_number) as fx_contract_number,
        fx_debits.bank_role as bank_role,
        dateDiff('day', settlements.erp_date, fx_debits.booking_date) as date_difference_days
    from fx_debits
    inner join settlements on fx_debits.fx_contract_number = settlements.fx_contract_number

),

final as (

    select
        'FX_CONTRACT_REFERENCE' as match_rule,
        toUInt8(1) as rule_priority,
        concat('FX:', paired.fx_contract_number) as match_group_id,
        paired.bank_movement_key as bank_movement_key,
        paired.erp_document_key as erp_document_key,
        toInt32(paired.date_difference_days) as date_difference_days,
        -- principal debit(s) of the contract minus the BRL value the ERP booked for its settlements
        toNullable(cast(contract_differences.amount_difference_brl as Decimal(18, 4))) as amount_difference_brl,
        cast('0.99' as Decimal(3, 2)) as confidence,
        -- a bundled debit carries IOF and fee; a separate principal should equal the ERP's BRL up to rounding
        cast(
            not contract_differences.is_bundled
            and abs(contract_differences.amount_difference_brl)
            > {{ var('reconciliation_rounding_tolerance_brl') }} as Bool
        ) as needs_investigation,
        multiIf(
            paired.bank_role = 'PRINCIPAL_IOF_FEE',
            concat(
                'FX contract ', paired.fx_contract_number,
                ': one debit bundles principal, IOF and contract fee; the difference is IOF + fee'
            ),
            paired.bank_role in ('IOF', 'FEE'),
            concat('FX contract ', paired.fx_contract_number, ': ', paired.bank_role, ' of the contract'),
            needs_investigation,
            concat(
                'FX contract ', paired.fx_contract_number,
                ': principal differs from the BRL value the ERP booked'
            ),
            concat('FX contract ', paired.fx_contract_number, ': principal debit')
        ) as reason
    from paired
    inner join contract_differences on paired.fx_contract_number = contract_differences.fx_contract_number

)

select * from final
