{{ config(order_by=['erp_as_of_date']) }}
{#- One row: the São Paulo date up to which each source is known. The ERP is known up to its latest change
    (`updated_at` of payables, settlements and receivables), the bank up to its latest balance snapshot. The
    treasury marts end their date spines there (not at today(), not at the calendar's 2030 end), and their
    incremental windows count back from there, so re-running on old data recomputes the right months. -#}

with

payables as (

    select * from {{ ref('stg_erp__payables') }}

),

settlements as (

    select * from {{ ref('stg_erp__payable_settlements') }}

),

receivables as (

    select * from {{ ref('stg_erp__receivables') }}

),

balances as (

    select * from {{ ref('stg_bank__balances') }}

),

erp_changes as (

    select max(updated_at) as updated_at from payables
    union all
    select max(updated_at) from settlements
    union all
    select max(updated_at) from receivables

),

final as (

    select
        cast((select toDate(max(updated_at), 'America/Sao_Paulo') from erp_changes) as Date) as erp_as_of_date,
        cast((select toDate(max(update_datetime), 'America/Sao_Paulo') from balances) as Date) as bank_as_of_date

)

select * from final
