{{ config(order_by=['institution', 'operation_id']) }}
{#- One row per FX operation (institution, operation_id) with its BRL cost split into principal, IOF and fees.
    Open Finance sends the principal (`local_currency_value` = foreign value x contract rate) and the VET, the
    "Valor Efetivo Total": BRL per foreign unit including the rate, the fees and the taxes (Open Finance Brasil
    exchanges API 1.0.0, `vetAmount`; mandatory up to US$100,000). It sends no IOF or fee field, so:
    total cost = round(VET x foreign value, 2); IOF = round(principal x the statutory rate, 2) on the operations
    that pay abroad (`VENDA`: the bank sells foreign currency; Decreto 6.306/2007, art. 15-B, 0.38 %);
    fees = total cost - principal - IOF. Without a VET the total cost and the fees are NULL. VET has 8 decimals
    in the demo, so the total is exact to the centavo while |foreign value| x 0.5e-8 < 0.005 (below 1,000,000). -#}
{%- set iof_pct = var('iof_fx_payment_abroad_pct') -%}

with

fx_operations as (

    select * from {{ ref('stg_open_finance__fx_operations') }}

),

costed as (

    select
        institution,
        operation_id,
        operation_number,
        operation_type,
        toDate(operation_datetime, 'America/Sao_Paulo') as contract_date,
        due_date as settlement_date,
        foreign_currency as currency,
        foreign_value as foreign_amount,
        fx_rate,
        local_currency_value as principal_brl,
        vet_amount as vet,
        cast(round(vet_amount * foreign_value, 2) as Nullable(Decimal(18, 4))) as total_cost_brl,
        cast(
            if(operation_type = 'VENDA', round(local_currency_value * toDecimal128('{{ iof_pct }}', 4) / 100, 2), null)
            as Nullable(Decimal(18, 4))
        ) as iof_brl
    from fx_operations

),

final as (

    select
        *,
        cast(total_cost_brl - principal_brl - iof_brl as Nullable(Decimal(18, 4))) as fee_brl
    from costed

)

select * from final
