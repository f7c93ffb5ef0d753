{{ config(materialized='table', order_by=['bank_movement_key', 'erp_document_key']) }}
{#- Rule 3, DUPLICATE_FX_PAYMENT: an FX contract at the bank that no ERP settlement recorded, for the same
    currency, foreign amount and beneficiary as a contract the ERP did record within the date window, is a
    second payment of the same invoice(s). Its debits link to the payables of that recorded contract, flagged for
    investigation, never as a clean match. One row per debit of the unrecorded contract × payable settlement of
    the recorded one. -#}
with

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

fx_operations as (

    select * from {{ ref('stg_open_finance__fx_operations') }}

),

fx_operation_events as (

    select * from {{ ref('stg_open_finance__fx_operation_events') }}

),

settlements as (

    select * from {{ reconciliation_fx_settlements() }}

),

recorded_contracts as (

    -- what the ERP says each contract paid: currency, foreign total, beneficiary, date
    select
        assumeNotNull(fx_contract_number) as fx_contract_number,
        any(erp_currency) as currency,
        sum(erp_amount) as foreign_amount,
        any(counterparty_name) as beneficiary_name,
        min(erp_date) as settled_date
    from settlements
    group by fx_contract_number

),

beneficiaries as (

    -- the foreign party of a contract is named on its settlement event
    select
        operation_id,
        any(foreign_partie_name) as beneficiary_name
    from fx_operation_events
    where foreign_partie_name is not null
    group by operation_id

),

unrecorded_contracts as (

    select
        assumeNotNull(fx_operations.operation_number) as fx_contract_number,
        fx_operations.foreign_currency as currency,
        fx_operations.foreign_value as foreign_amount,
        fx_operations.due_date as settlement_date,
        beneficiaries.beneficiary_name as beneficiary_name
    from fx_operations
    inner join beneficiaries on fx_operations.operation_id = beneficiaries.operation_id
    where
        fx_operations.operation_number is not null
        and fx_operations.operation_number not in (select fx_contract_number from recorded_contracts)

),

twins as (

    select
        unrecorded_contracts.fx_contract_number as fx_contract_number,
        recorded_contracts.fx_contract_number as recorded_contract_number,
        dateDiff('day', recorded_contracts.settled_date, unrecorded_contracts.settlement_date) as days_after
    from unrecorded_contracts
    inner join recorded_contracts
        on
            unrecorded_contracts.currency = recorded_contracts.currency
            and unrecorded_contracts.foreign_amount = recorded_contracts.foreign_amount
    where
        -- ERP supplier names may be longer than the 80 characters the FX contract keeps
        startsWith(upperUTF8(recorded_contracts.beneficiary_name), upperUTF8(unrecorded_contracts.beneficiary_name))
        and abs(days_after) <= {{ var('reconciliation_date_window_days') }}

),

closest_twin as (

    select *
    from twins
    order by abs(days_after), recorded_contract_number
    limit 1 by fx_contract_number

),

paired as (

    select
        bank_movements.bank_movement_key as bank_movement_key,
        settlements.erp_document_key as erp_document_key,
        closest_twin.fx_contract_number as fx_contract_number,
        closest_twin.recorded_contract_number as recorded_contract_number,
        bank_movements.bank_role as bank_role,
        bank_movements.amount_brl as amount_brl,
        dateDiff('day', settlements.erp_date, bank_movements.booking_date) as date_difference_days
    from bank_movements
    inner join closest_twin on bank_movements.fx_contract_number = closest_twin.fx_contract_number
    inner join settlements on closest_twin.recorded_contract_number = settlements.fx_contract_number
    where bank_movements.bank_category = 'FX_CONTRACT' and bank_movements.credit_debit_type = 'DEBITO'

),

principal_per_contract as (

    select
        fx_contract_number,
        sumIf(amount_brl, bank_role in ('PRINCIPAL', 'PRINCIPAL_IOF_FEE')) as principal_brl
    from (select distinct bank_movement_key, fx_contract_number, bank_role, amount_brl from paired)
    group by fx_contract_number

),

final as (

    select
        'DUPLICATE_FX_PAYMENT' as match_rule,
        toUInt8(3) as rule_priority,
        concat('DUPLICATE:', paired.fx_contract_number) as match_group_id,
        paired.bank_movement_key as bank_movement_key,
        paired.erp_document_key as erp_document_key,
        toInt32(paired.date_difference_days) as date_difference_days,
        -- the ERP booked nothing for this contract: its whole principal is unexplained
        toNullable(cast(principal_per_contract.principal_brl as Decimal(18, 4))) as amount_difference_brl,
        cast('0.90' as Decimal(3, 2)) as confidence,
        cast(true as Bool) as needs_investigation,
        concat(
            'possible duplicate payment: FX contract ', paired.fx_contract_number,
            ' is not in the ERP and repeats contract ', paired.recorded_contract_number,
            ' (same currency, foreign amount and beneficiary)'
        ) as reason
    from paired
    inner join principal_per_contract on paired.fx_contract_number = principal_per_contract.fx_contract_number

)

select * from final
