{{ config(order_by=['currency', 'settlement_id']) }}
{#- One row per live payable settlement (settlement_id), with the BRL the bank really charged for it.
    A foreign settlement names its FX contract (`fx_contract_id` = the FX operation's `operation_number`). One
    contract can pay several payables (two invoices of one supplier paid together): the operation's principal,
    IOF and fees are then allocated to its settlements pro rata to their foreign amounts, each share rounded to
    the centavo, and the rounding rest goes to the largest settlement (ties: the smallest settlement_id), so the
    shares add up exactly to the bank's figures. A settlement whose contract the bank data does not have keeps
    the ERP's `brl_amount` (`paid_brl_source` says which); BRL settlements are paid at face value. -#}

with

settlements as (

    select * from {{ ref('stg_erp__payable_settlements') }}

),

fx_operations as (

    select * from {{ ref('int_treasury_fx_operations_costed') }}

),

live_settlements as (

    select
        settlement_id,
        payable_id,
        fx_contract_id,
        settled_date,
        currency,
        amount,
        exchange_rate as erp_exchange_rate,
        brl_amount as erp_brl_amount
    from settlements
    where not is_deleted

),

contract_operations as (

    -- one operation per contract number (the latest operation date wins should a number ever repeat), Nullable
    -- on this right side so a contract the bank data lacks gets NULLs from the LEFT JOIN whatever the settings
    select
        operation_number as fx_contract_id,
        toNullable(institution) as institution,
        toNullable(operation_id) as operation_id,
        toNullable(currency) as operation_currency,
        toNullable(foreign_amount) as operation_foreign_amount,
        toNullable(fx_rate) as fx_rate,
        vet,
        toNullable(principal_brl) as principal_brl,
        iof_brl,
        fee_brl
    from fx_operations
    where operation_number is not null
    order by contract_date desc, operation_id
    limit 1 by operation_number

),

contract_shares as (

    select
        live_settlements.*,
        contract_operations.institution as institution,
        contract_operations.operation_id as operation_id,
        contract_operations.fx_rate as fx_rate,
        contract_operations.vet as vet,
        contract_operations.principal_brl as operation_principal_brl,
        contract_operations.iof_brl as operation_iof_brl,
        contract_operations.fee_brl as operation_fee_brl,
        count() over contract as settlements_on_contract,
        sum(live_settlements.amount) over contract as contract_settled_amount,
        row_number() over (
            partition by live_settlements.fx_contract_id order by live_settlements.amount desc, live_settlements.settlement_id
        ) as size_rank
    from live_settlements
    left join contract_operations
        on contract_operations.fx_contract_id = live_settlements.fx_contract_id
        and contract_operations.operation_currency = live_settlements.currency
    window contract as (partition by live_settlements.fx_contract_id)

),

rounded_shares as (

    -- pro rata share of each operation figure, to the centavo (Decimal128: principal x amount can pass 9.2e9)
    select
        *,
        {%- for figure in ['principal', 'iof', 'fee'] %}
        round(
            cast(operation_{{ figure }}_brl as Nullable(Decimal(38, 4))) * amount / contract_settled_amount, 2
        ) as {{ figure }}_share{% if not loop.last %},{% endif %}
        {%- endfor %}
    from contract_shares

),

allocated as (

    select
        *,
        {%- for figure in ['principal', 'iof', 'fee'] %}
        cast(
            if(
                size_rank = 1,
                operation_{{ figure }}_brl - (sum({{ figure }}_share) over contract - {{ figure }}_share),
                {{ figure }}_share
            ) as Nullable(Decimal(18, 4))
        ) as allocated_{{ figure }}_brl{% if not loop.last %},{% endif %}
        {%- endfor %}
    from rounded_shares
    window contract as (partition by fx_contract_id)

),

final as (

    select
        settlement_id,
        payable_id,
        fx_contract_id,
        settled_date,
        currency,
        amount,
        erp_exchange_rate,
        erp_brl_amount,
        institution,
        operation_id,
        fx_rate,
        vet,
        cast(if(fx_contract_id is null, 0, settlements_on_contract) as UInt64) as settlements_on_contract,
        cast(
            multiIf(
                currency = 'BRL', 'brl_payment',
                operation_id is not null, 'bank_fx_operation',
                'erp_settlement'
            ) as LowCardinality(String)
        ) as paid_brl_source,
        cast(
            multiIf(currency = 'BRL', amount, operation_id is not null, allocated_principal_brl, erp_brl_amount)
            as Decimal(18, 4)
        ) as paid_principal_brl,
        cast(if(currency = 'BRL', 0, allocated_iof_brl) as Nullable(Decimal(18, 4))) as paid_iof_brl,
        cast(if(currency = 'BRL', 0, allocated_fee_brl) as Nullable(Decimal(18, 4))) as paid_fee_brl
    from allocated

)

select * from final
