{{ config(order_by=['registration_date', 'declaration_id', 'tax'], partition_by='toYYYYMM(registration_date)') }}

{#- Three-way customs reconciliation: for each declaration the ERP holds or the broker delivered, and each tax,
    what the ERP recorded, what the official declaration (DI XML / DUIMP JSON) registered, and what the bank
    debited (Open Finance), with the differences and the reason (README.md, "Customs reconciliation").
    The Receita debits II, IPI, PIS, COFINS and the Siscomex fee as ONE Siscomex debit, so the bank side of those
    five taxes is their sum, on the row `SISCOMEX_DEBIT`; AFRMM (Mercante, named by the B/L) and ICMS (the
    state's GARE) are debited on their own and are not part of the federal declaration. `item_match_status` says
    whether the declaration's items pair with the ERP's (item number and NCM, as many on both sides): only then do
    the official figures feed the landed cost. -#}
{%- set federal = ['II', 'IPI', 'PIS', 'COFINS', 'SISCOMEX_FEE'] -%}
{%- set cent = "toDecimal64('0.005', 4)" -%}

with

erp as (

    select declarations.*, shipments.bill_of_lading as bill_of_lading
    from {{ ref('stg_erp__import_declarations') }} as declarations
    left join {{ ref('stg_erp__shipments') }} as shipments on shipments.shipment_id = declarations.shipment_id
    where not declarations.is_deleted

),

official as (

    select * from {{ ref('stg_customs__declarations') }}

),

official_taxes as (

    select
        declaration_id,
        {%- for tax in federal %}
        sumIf(amount_brl, tax = '{{ tax }}') as {{ tax | lower }}_brl,
        {%- endfor %}
        sum(amount_brl) as siscomex_debit_brl
    from {{ ref('stg_customs__taxes_paid') }}
    group by declaration_id

),

item_matches as (

    -- how the official declaration's items pair with the ERP's (int_import_declaration_items_sourced): only a
    -- declaration whose items pair feeds the landed cost with the official figures
    select
        declaration_id as match_declaration_id,
        cast(any(official_match_status) as Nullable(String)) as official_match_status,
        cast(any(official_match_reason) as Nullable(String)) as official_match_reason
    from {{ ref('int_import_declaration_items_sourced') }}
    group by declaration_id

),

bank as (

    -- the customs debits, named by the declaration (Siscomex, GARE ICMS) or by the bill of lading (AFRMM)
    select tax_component, customs_reference, sum(amount_brl) as amount_brl, count() as debits
    from {{ ref('int_bank_movements_classified') }}
    where bank_category = 'CUSTOMS_TAX' and credit_debit_type = 'DEBITO'
    group by tax_component, customs_reference

),

declarations as (

    -- an outer join fills the missing side with default values ('' and 0), not NULL: the flags say which side exists
    select
        erp.declaration_id != '' as in_erp,
        official.declaration_id != '' as has_official,
        if(in_erp, erp.declaration_id, official.declaration_id) as declaration_id,
        if(has_official, official.declaration_type, erp.declaration_type) as declaration_type,
        if(has_official, official.registration_date, erp.registration_date) as registration_date,
        erp.bill_of_lading as bill_of_lading,
        official.declaration_version as official_version,
        official.declaration_file as official_file,
        multiIf(
            not in_erp, 'NOT_IN_ERP',
            item_matches.official_match_status is not null, item_matches.official_match_status,
            has_official, 'ITEM_MISMATCH',
            'NO_OFFICIAL_DECLARATION'
        ) as item_match_status,
        multiIf(
            not in_erp, 'the ERP holds no declaration to pair with',
            item_matches.official_match_reason is not null, item_matches.official_match_reason,
            has_official, 'the ERP holds no item of the declaration',
            'no official declaration delivered yet'
        ) as item_match_reason,
        -- (tax, ERP amount, declared amount); NULL where that side does not hold the tax
        [
            {%- for tax in federal %}
            tuple('{{ tax }}', if(in_erp, erp.{{ 'siscomex_fee' if tax == 'SISCOMEX_FEE' else tax | lower }}_brl, null),
                if(has_official, official_taxes.{{ tax | lower }}_brl, null)),
            {%- endfor %}
            tuple(
                'SISCOMEX_DEBIT',
                if(in_erp, erp.ii_brl + erp.ipi_brl + erp.pis_brl + erp.cofins_brl + erp.siscomex_fee_brl, null),
                if(has_official, official_taxes.siscomex_debit_brl, null)
            ),
            tuple('AFRMM', if(in_erp, erp.afrmm_brl, null), cast(null as Nullable(Decimal(18, 4)))),
            tuple('ICMS', if(in_erp, erp.icms_brl, null), cast(null as Nullable(Decimal(18, 4))))
        ] as amounts
    from erp
    full outer join official on official.declaration_id = erp.declaration_id
    left join official_taxes on official_taxes.declaration_id = official.declaration_id
    left join item_matches on item_matches.match_declaration_id = erp.declaration_id

),

taxes as (

    select
        declaration_id,
        declaration_type,
        registration_date,
        bill_of_lading,
        in_erp,
        has_official,
        official_version,
        official_file,
        item_match_status,
        item_match_reason,
        cast(tupleElement(arrayJoin(amounts) as entry, 1) as LowCardinality(String)) as tax,  -- noqa: CP02
        cast(tupleElement(entry, 2) as Nullable(Decimal(18, 4))) as erp_amount_brl,
        cast(tupleElement(entry, 3) as Nullable(Decimal(18, 4))) as declared_amount_brl
    from declarations

),

with_bank as (

    select
        taxes.*,
        -- only three debits reach the bank: the Siscomex debit (the five federal amounts together), AFRMM, ICMS
        multiIf(taxes.tax = 'SISCOMEX_DEBIT', 'SISCOMEX', taxes.tax in ('AFRMM', 'ICMS'), taxes.tax, '')
        as bank_component,
        if(bank_component = '', null, bank.amount_brl) as bank_amount_brl,
        bank.debits as bank_debits
    from taxes
    left join bank
        on bank.tax_component = multiIf(taxes.tax = 'SISCOMEX_DEBIT', 'SISCOMEX', taxes.tax)
        and bank.customs_reference = if(taxes.tax = 'AFRMM', taxes.bill_of_lading, taxes.declaration_id)

),

compared as (

    select
        *,
        erp_amount_brl - declared_amount_brl as erp_minus_declared_brl,
        bank_amount_brl - declared_amount_brl as bank_minus_declared_brl,
        erp_amount_brl - bank_amount_brl as erp_minus_bank_brl,
        -- equal to the centavo; NULL when a side is missing
        abs(erp_amount_brl - declared_amount_brl) < {{ cent }} as erp_agrees_declared,
        abs(bank_amount_brl - declared_amount_brl) < {{ cent }} as bank_agrees_declared,
        abs(erp_amount_brl - bank_amount_brl) < {{ cent }} as erp_agrees_bank
    from with_bank

)

select
    cast(declaration_id as String) as declaration_id,
    cast(declaration_type as LowCardinality(String)) as declaration_type,
    cast(registration_date as Date) as registration_date,
    cast(tax as LowCardinality(String)) as tax,
    cast(in_erp as Bool) as in_erp,
    cast(has_official as Bool) as has_official_declaration,
    cast(if(has_official, official_version, null) as Nullable(Int32)) as official_version,
    cast(if(has_official, official_file, null) as Nullable(String)) as official_file,
    erp_amount_brl,
    declared_amount_brl,
    cast(bank_amount_brl as Nullable(Decimal(18, 4))) as bank_amount_brl,
    cast(bank_debits as UInt32) as bank_debits,
    erp_minus_declared_brl,
    cast(bank_minus_declared_brl as Nullable(Decimal(18, 4))) as bank_minus_declared_brl,
    cast(erp_minus_bank_brl as Nullable(Decimal(18, 4))) as erp_minus_bank_brl,
    cast(multiIf(
        not in_erp, 'NOT_IN_ERP',
        declared_amount_brl is null and bank_amount_brl is null, 'ERP_ONLY',
        bank_amount_brl is null, if(erp_agrees_declared, 'AGREED', 'ERP_DIFFERS'),
        declared_amount_brl is null, if(erp_agrees_bank, 'AGREED', 'ERP_DIFFERS_FROM_BANK'),
        erp_agrees_declared and bank_agrees_declared, 'AGREED',
        bank_agrees_declared, 'ERP_DIFFERS',
        erp_agrees_declared, 'BANK_DIFFERS',
        erp_agrees_bank, 'DECLARATION_DIFFERS',
        'ALL_DIFFER'
    ) as LowCardinality(String)) as status,
    cast(multiIf(
        not in_erp, concat('the broker delivered ', official_file, ' but the ERP holds no declaration ', declaration_id),
        declared_amount_brl is null and bank_amount_brl is null,
        if(has_official, 'the federal declaration does not carry this tax and it has no debit of its own',
            'no official declaration received yet: only the ERP\'s copy'),
        bank_amount_brl is null,
        if(erp_agrees_declared, 'the ERP matches the declaration',
            concat('the ERP recorded ', {{ money_text('erp_amount_brl') }}, ', the declaration registered ',
                {{ money_text('declared_amount_brl') }}, ': the ERP\'s copy is wrong (the declaration wins)')),
        declared_amount_brl is null,
        if(erp_agrees_bank, 'the ERP matches the bank debit',
            concat('the ERP recorded ', {{ money_text('erp_amount_brl') }}, ', the bank debited ',
                {{ money_text('bank_amount_brl') }},
                if(tax = 'ICMS', ' (ICMS is the state\'s, paid by GARE outside the federal declaration)',
                    ' (AFRMM is paid to the Mercante, outside the federal declaration)'))),
        erp_agrees_declared and bank_agrees_declared, 'ERP, declaration and bank debit agree',
        bank_agrees_declared,
        concat('the ERP recorded ', {{ money_text('erp_amount_brl') }}, ', the declaration and the bank debit ',
            {{ money_text('declared_amount_brl') }}, ': the ERP\'s copy is wrong (the declaration wins)'),
        erp_agrees_declared,
        concat('the bank debited ', {{ money_text('bank_amount_brl') }}, ', the ERP and the declaration say ',
            {{ money_text('declared_amount_brl') }}, if(bank_debits = 0, ': no debit found at the bank',
            ': a debit differs from the declaration')),
        erp_agrees_bank,
        concat('the ERP and the bank debit say ', {{ money_text('erp_amount_brl') }}, ', the declaration ',
            {{ money_text('declared_amount_brl') }}, ': a rectified declaration the ERP and the bank have not followed?'),
        concat('ERP ', {{ money_text('erp_amount_brl') }}, ', declaration ', {{ money_text('declared_amount_brl') }}, ', bank ',
            {{ money_text('bank_amount_brl') }}, ': all three differ')
    ) as String) as reason,
    -- the items: only a declaration whose items pair with the ERP's feeds the landed cost (the declaration wins);
    -- a mismatch leaves the ERP's copy in the landed cost and is reported here, never joined silently
    cast(item_match_status as LowCardinality(String)) as item_match_status,
    cast(item_match_reason as String) as item_match_reason,
    cast(item_match_status = 'MATCHED' as Bool) as official_feeds_landed_cost
from compared
