{#- Every FX operation that ERP settlements cite is shared out exactly: its settlements' principal, IOF and fee
    shares (int_treasury_payable_settlements_allocated, pro rata with the rest on the largest) add up to the
    operation's figures to the centavo. Returns the operations that do not. -#}
with

settlements as (

    select * from {{ ref('int_treasury_payable_settlements_allocated') }}

),

operations as (

    select * from {{ ref('int_treasury_fx_operations_costed') }}

),

shares as (

    select
        institution,
        operation_id,
        sum(paid_principal_brl) as principal_brl,
        sum(paid_iof_brl) as iof_brl,
        sum(paid_fee_brl) as fee_brl
    from settlements
    where paid_brl_source = 'bank_fx_operation'
    group by institution, operation_id

),

compared as (

    select
        shares.institution as institution,
        shares.operation_id as operation_id,
        shares.principal_brl as shared_principal_brl,
        operations.principal_brl as operation_principal_brl,
        shares.iof_brl as shared_iof_brl,
        operations.iof_brl as operation_iof_brl,
        shares.fee_brl as shared_fee_brl,
        operations.fee_brl as operation_fee_brl
    from shares
    inner join operations
        on operations.institution = shares.institution and operations.operation_id = shares.operation_id
    where
        shares.principal_brl != operations.principal_brl
        or not isNotDistinctFrom(shares.iof_brl, operations.iof_brl)
        or not isNotDistinctFrom(shares.fee_brl, operations.fee_brl)

)

select * from compared
