{{ config(order_by=['currency', 'invoice_date', 'payable_id']) }}

{#- FX variance of each foreign-currency payable, in BRL, as of the last date the ERP and PTAX are known up to.
    The invoice is booked at the PTAX selling rate of its invoice date (the last one published on or before it).
    - realised: on the settled part, what the booking says minus the principal the bank charged (allocated per
      settlement when one FX contract paid several invoices, int_treasury_payable_settlements_allocated);
    - unrealised: on the part still open, what the booking says minus its value at the latest PTAX.
    Sign: positive = gain for the importer (fewer BRL than booked). Booked BRL = round(amount x invoice PTAX, 2);
    its settled part is round(settled x invoice PTAX, 2) and the open part the rest, so both add up to the booking.
    IOF and bank fees are costs of the FX contract, shown apart and never in the FX variance. Legal basis: FX
    variations of obligations enter taxable income when the operation is settled (MP 2.158-35/2001, art. 30:
    realised), and foreign-currency monetary items are remeasured at the closing rate with the difference in
    profit or loss (CPC 02 (R2) / IAS 21, items 23 and 28: unrealised). For an import, `customs_brl` is the
    invoice at the customs (Siscomex) rate of its declaration's registration date, for comparison. -#}

with

payables as (

    select * from {{ ref('int_treasury_fx_payables_summarised') }}

),

as_of as (

    select * from {{ ref('int_treasury_data_as_of') }}

),

rates as (

    select * from {{ ref('fct_fx_rates_daily') }}

),

nullable_rates as (

    select currency as rate_currency, date as rate_date, toNullable(date) as quote_date, toNullable(ptax_sell) as ptax_sell
    from rates

),

latest_rates as (

    -- the latest PTAX selling rate on or before the last date the data is known up to
    select currency, argMax(date, date) as latest_ptax_date, argMax(ptax_sell, date) as latest_ptax
    from rates
    where date <= (select least(erp_as_of_date, (select max(date) from rates)) from as_of)
    group by currency

),

with_invoice_rate as (

    select
        payables.*,
        invoice_rates.quote_date as invoice_ptax_date,
        invoice_rates.ptax_sell as invoice_ptax
    from payables
    asof left join nullable_rates as invoice_rates
        on invoice_rates.rate_currency = payables.currency
        and payables.invoice_date >= invoice_rates.rate_date

),

with_rates as (

    select
        with_invoice_rate.*,
        customs.customs_rate_date as customs_rate_date,
        customs.customs_rate as customs_rate,
        latest_rates.latest_ptax_date as latest_ptax_date,
        latest_rates.latest_ptax as latest_ptax
    from with_invoice_rate
    left join (
        select currency as rate_currency, date as rate_date, customs_rate_date, customs_rate from rates
    ) as customs
        on customs.rate_currency = with_invoice_rate.currency
        and customs.rate_date = with_invoice_rate.declaration_registration_date
    left join (
        select
            currency as rate_currency,
            toNullable(latest_ptax_date) as latest_ptax_date,
            toNullable(latest_ptax) as latest_ptax
        from latest_rates
    ) as latest_rates
        on latest_rates.rate_currency = with_invoice_rate.currency

),

valued as (

    select
        *,
        greatest(amount - settled_amount, 0) as open_amount,
        round(amount * invoice_ptax, 2) as invoice_brl,
        round(amount * customs_rate, 2) as customs_brl,
        round(settled_amount * invoice_ptax, 2) as settled_invoice_brl,
        if(open_amount > 0, invoice_brl - settled_invoice_brl, 0) as open_invoice_brl,
        round(open_amount * latest_ptax, 2) as open_latest_brl
    from with_rates

),

final as (

    select
        payable_id,
        supplier_id,
        po_id,
        cast(document_type as LowCardinality(String)) as document_type,
        cast(currency as LowCardinality(String)) as currency,
        invoice_date,
        due_date,
        amount,
        cast(
            multiIf(open_amount = 0, 'SETTLED', settled_amount > 0, 'PARTIALLY_SETTLED', 'OPEN')
            as LowCardinality(String)
        ) as settlement_status,
        cast(invoice_ptax_date as Nullable(Date)) as invoice_ptax_date,
        cast(invoice_ptax as Nullable(Decimal(38, 8))) as invoice_ptax,
        cast(invoice_brl as Nullable(Decimal(18, 4))) as invoice_brl,
        cast(declaration_id as Nullable(String)) as declaration_id,
        cast(customs_rate_date as Nullable(Date)) as customs_rate_date,
        cast(customs_rate as Nullable(Decimal(38, 8))) as customs_rate,
        cast(customs_brl as Nullable(Decimal(18, 4))) as customs_brl,
        settlements_count,
        fx_contracts_count,
        cast(last_settled_date as Nullable(Date)) as last_settled_date,
        settled_amount,
        cast(settled_invoice_brl as Nullable(Decimal(18, 4))) as settled_invoice_brl,
        paid_principal_brl,
        paid_iof_brl,
        paid_fee_brl,
        cast(paid_principal_brl + paid_iof_brl + paid_fee_brl as Nullable(Decimal(18, 4))) as paid_total_brl,
        cast(
            if(settled_amount > 0, toDecimal128(paid_principal_brl, 8) / settled_amount, null) as Nullable(Decimal(38, 8))
        ) as paid_effective_rate,
        cast(settled_invoice_brl - paid_principal_brl as Nullable(Decimal(18, 4))) as realised_fx_gain_brl,
        cast(open_amount as Decimal(18, 4)) as open_amount,
        cast(latest_ptax_date as Nullable(Date)) as latest_ptax_date,
        cast(latest_ptax as Nullable(Decimal(38, 8))) as latest_ptax,
        cast(open_invoice_brl as Nullable(Decimal(18, 4))) as open_invoice_brl,
        cast(open_latest_brl as Nullable(Decimal(18, 4))) as open_latest_brl,
        cast(open_invoice_brl - open_latest_brl as Nullable(Decimal(18, 4))) as unrealised_fx_gain_brl,
        settlements_without_bank_operation
    from valued

)

select * from final
