{{ config(
    order_by=['row_type', 'match_status', 'reconciliation_date', 'reconciliation_id'],
    partition_by='toYear(reconciliation_date)',
) }}
{#- One row per bank movement × ERP document it was matched to, plus one row per unmatched bank movement and per
    unmatched ERP document (README.md). -#}
with

proposed_links as (

    select * from {{ ref('int_reconciliation_links_ranked') }}

),

bank_movements as (

    select * from {{ ref('int_bank_movements_classified') }}

),

erp_documents as (

    select * from {{ ref('int_erp_settlement_documents_unioned') }}

),

decisions as (

    select * from {{ ref('stg_cockpit__reconciliation_decisions') }}

),

-- The finance team's decisions in the cockpit override the rules (README.md, "Decisions"): a rejected match is never
-- proposed again (its movement and document fall back to unmatched); a confirmed match stays, even when the rules
-- stop proposing it, and then wins over whatever the rules now propose for its movement or document.
confirmed_unproposed as (

    select
        'CONFIRMED_BY_PERSON' as match_rule,
        toUInt8(0) as rule_priority,
        concat('CONFIRMED:', decisions.reconciliation_id) as match_group_id,
        decisions.bank_movement_key as bank_movement_key,
        decisions.erp_document_key as erp_document_key,
        toInt32(dateDiff('day', erp_documents.erp_date, bank_movements.booking_date)) as date_difference_days,
        cast(null as Nullable(Decimal(18, 4))) as amount_difference_brl,
        toDecimal32(1, 2) as confidence,
        false as needs_investigation,
        concat('confirmed by ', decisions.decided_by, ' in the cockpit; the rules no longer propose it') as reason
    from decisions
    inner join bank_movements on decisions.bank_movement_key = bank_movements.bank_movement_key
    inner join erp_documents on decisions.erp_document_key = erp_documents.erp_document_key
    where
        decisions.decision = 'CONFIRMED'
        and decisions.reconciliation_id not in (
            select concat(bank_movement_key, '|', erp_document_key) from proposed_links
        )

),

links as (

    select
        {{ reconciliation_link_columns() | join(',\n        ') }}
    from proposed_links
    where
        concat(bank_movement_key, '|', erp_document_key) not in (
            select reconciliation_id from decisions where decision = 'REJECTED'
        )
        and bank_movement_key not in (select bank_movement_key from confirmed_unproposed)
        and erp_document_key not in (select erp_document_key from confirmed_unproposed)
    union all
    select * from confirmed_unproposed

),

matched as (

    select
        concat(links.bank_movement_key, '|', links.erp_document_key) as reconciliation_id,
        'MATCH' as row_type,
        -- an anomaly to investigate (a duplicate, a tax the ERP got wrong, a document cancelled after it was
        -- paid) first; else a pair below the confidence threshold is only proposed, for a person to confirm
        multiIf(
            links.needs_investigation or erp_documents.is_cancelled, 'NEEDS_INVESTIGATION',
            links.confidence < {{ var('reconciliation_review_threshold') }}, 'NEEDS_REVIEW',
            'MATCHED'
        ) as match_status,
        toNullable(links.match_rule) as match_rule,
        toNullable(links.rule_priority) as rule_priority,
        toNullable(links.confidence) as confidence,
        toNullable(links.match_group_id) as match_group_id,
        bank_movements.booking_date as reconciliation_date,
        toNullable(bank_movements.institution) as institution,
        toNullable(bank_movements.account_id) as account_id,
        toNullable(bank_movements.bank_transaction_id) as bank_transaction_id,
        toNullable(bank_movements.booking_date) as booking_date,
        toNullable(bank_movements.credit_debit_type) as credit_debit_type,
        toNullable(bank_movements.bank_category) as bank_category,
        toNullable(bank_movements.bank_role) as bank_role,
        toNullable(bank_movements.transaction_name) as transaction_name,
        toNullable(bank_movements.amount_brl) as bank_amount_brl,
        bank_movements.counterparty_tax_id as bank_counterparty_tax_id,
        bank_movements.fx_contract_number as fx_contract_number,
        toNullable(erp_documents.erp_document_type) as erp_document_type,
        toNullable(erp_documents.erp_document_id) as erp_document_id,
        erp_documents.erp_settlement_id as erp_settlement_id,
        erp_documents.erp_component as erp_component,
        toNullable(erp_documents.erp_date) as erp_date,
        erp_documents.counterparty_id as erp_counterparty_id,
        toNullable(erp_documents.erp_currency) as erp_currency,
        toNullable(erp_documents.erp_amount) as erp_amount,
        toNullable(erp_documents.erp_amount_brl) as erp_amount_brl,
        toNullable(links.date_difference_days) as date_difference_days,
        links.amount_difference_brl as amount_difference_brl,
        if(
            erp_documents.is_cancelled,
            concat('the ERP cancelled this document after it was paid (refund due?); ', links.reason),
            links.reason
        ) as reason
    from links
    inner join bank_movements on links.bank_movement_key = bank_movements.bank_movement_key
    inner join erp_documents on links.erp_document_key = erp_documents.erp_document_key

),

unmatched_bank as (

    select
        concat(movement.bank_movement_key, '|') as reconciliation_id,
        'UNMATCHED_BANK' as row_type,
        'UNMATCHED' as match_status,
        cast(null as Nullable(String)) as match_rule,
        cast(null as Nullable(UInt8)) as rule_priority,
        cast(null as Nullable(Decimal(3, 2))) as confidence,
        cast(null as Nullable(String)) as match_group_id,
        movement.booking_date as reconciliation_date,
        toNullable(movement.institution) as institution,
        toNullable(movement.account_id) as account_id,
        toNullable(movement.bank_transaction_id) as bank_transaction_id,
        toNullable(movement.booking_date) as booking_date,
        toNullable(movement.credit_debit_type) as credit_debit_type,
        toNullable(movement.bank_category) as bank_category,
        toNullable(movement.bank_role) as bank_role,
        toNullable(movement.transaction_name) as transaction_name,
        toNullable(movement.amount_brl) as bank_amount_brl,
        movement.counterparty_tax_id as bank_counterparty_tax_id,
        movement.fx_contract_number as fx_contract_number,
        cast(null as Nullable(String)) as erp_document_type,
        cast(null as Nullable(String)) as erp_document_id,
        cast(null as Nullable(String)) as erp_settlement_id,
        cast(null as Nullable(String)) as erp_component,
        cast(null as Nullable(Date)) as erp_date,
        cast(null as Nullable(String)) as erp_counterparty_id,
        cast(null as Nullable(String)) as erp_currency,
        cast(null as Nullable(Decimal(18, 4))) as erp_amount,
        cast(null as Nullable(Decimal(18, 4))) as erp_amount_brl,
        cast(null as Nullable(Int32)) as date_difference_days,
        cast(null as Nullable(Decimal(18, 4))) as amount_difference_brl,
        multiIf(
            movement.bank_category = 'BANK_FEE', 'bank fee: no ERP document, book it as a bank expense',
            movement.bank_category = 'CARD_BILL',
            'card bill payment: reconciled with the card statement, not an ERP document',
            movement.bank_category = 'RETURNED',
            concat('returned transfer: it and ', assumeNotNull(movement.returned_pair_key), ' cancel out'),
            movement.bank_category = 'BATCH_PAYMENT',
            'batch payment: no set of ERP settlements of its day has the count and total it names',
            movement.bank_category = 'TRANSFER' and movement.counterparty_tax_id is null,
            'transfer without counterparty CNPJ: no ERP document with this amount and a matching name',
            movement.bank_category = 'FX_CONTRACT',
            concat('FX contract ', assumeNotNull(movement.fx_contract_number), ' is in no ERP settlement'),
            movement.bank_category = 'CUSTOMS_TAX', 'customs debit whose reference is in no ERP import declaration',
            movement.bank_category = 'TRANSFER' and not movement.is_counterparty_known,
            concat(
                'counterparty ', assumeNotNull(movement.counterparty_tax_id),
                ' is neither a supplier nor a customer in the ERP'
            ),
            movement.bank_category = 'TRANSFER',
            'no ERP document of this counterparty with this amount within '
            || toString({{ var('reconciliation_date_window_days') }}) || ' days',
            'no rule applies to this movement'
        ) as reason
    from bank_movements as movement
    where movement.bank_movement_key not in (select bank_movement_key from links)

),

unmatched_erp as (

    select
        concat('|', document.erp_document_key) as reconciliation_id,
        'UNMATCHED_ERP' as row_type,
        'UNMATCHED' as match_status,
        cast(null as Nullable(String)) as match_rule,
        cast(null as Nullable(UInt8)) as rule_priority,
        cast(null as Nullable(Decimal(3, 2))) as confidence,
        cast(null as Nullable(String)) as match_group_id,
        document.erp_date as reconciliation_date,
        cast(null as Nullable(String)) as institution,
        cast(null as Nullable(String)) as account_id,
        cast(null as Nullable(String)) as bank_transaction_id,
        cast(null as Nullable(Date)) as booking_date,
        cast(null as Nullable(String)) as credit_debit_type,
        cast(null as Nullable(String)) as bank_category,
        cast(null as Nullable(String)) as bank_role,
        cast(null as Nullable(String)) as transaction_name,
        cast(null as Nullable(Decimal(18, 4))) as bank_amount_brl,
        cast(null as Nullable(String)) as bank_counterparty_tax_id,
        document.fx_contract_number as fx_contract_number,
        toNullable(document.erp_document_type) as erp_document_type,
        toNullable(document.erp_document_id) as erp_document_id,
        document.erp_settlement_id as erp_settlement_id,
        document.erp_component as erp_component,
        toNullable(document.erp_date) as erp_date,
        document.counterparty_id as erp_counterparty_id,
        toNullable(document.erp_currency) as erp_currency,
        toNullable(document.erp_amount) as erp_amount,
        toNullable(document.erp_amount_brl) as erp_amount_brl,
        cast(null as Nullable(Int32)) as date_difference_days,
        cast(null as Nullable(Decimal(18, 4))) as amount_difference_brl,
        multiIf(
            document.fx_contract_number is not null,
            concat('no bank debit names FX contract ', assumeNotNull(document.fx_contract_number)),
            document.erp_document_type = 'IMPORT_DECLARATION',
            concat('no customs debit names ', assumeNotNull(document.customs_reference)),
            'no bank movement of this counterparty with this amount within '
            || toString({{ var('reconciliation_date_window_days') }}) || ' days'
        ) as reason
    from erp_documents as document
    where
        document.expects_bank_movement
        and document.erp_document_key not in (select erp_document_key from links)

),

unioned as (

    select * from matched
    union all
    select * from unmatched_bank
    union all
    select * from unmatched_erp

),

-- Which rows a decision touches: a confirmed match's own row; for a rejected match, the unmatched rows of its
-- movement and document (`<movement>|` and `|<document>`), so the exceptions queue says a person rejected it.
decision_rows as (

    select
        reconciliation_id,
        toNullable('CONFIRMED') as decision,
        toNullable(decided_by) as decided_by,
        toNullable(decided_at) as decided_at
    from decisions
    where decision = 'CONFIRMED'
    union all
    select
        side_id as reconciliation_id,
        toNullable('REJECTED') as decision,
        toNullable(argMax(rejected_by, rejected_at)) as decided_by,
        toNullable(max(rejected_at)) as decided_at
    from (
        select
            arrayJoin([concat(bank_movement_key, '|'), concat('|', erp_document_key)]) as side_id,
            decided_by as rejected_by,
            decided_at as rejected_at
        from decisions
        where decision = 'REJECTED'
    )
    group by side_id

),

decided as (

    select
        unioned.*,
        decision_rows.decision as decision,
        decision_rows.decided_by as decided_by,
        decision_rows.decided_at as decided_at
    from unioned
    left join decision_rows on unioned.reconciliation_id = decision_rows.reconciliation_id

),

final as (

    select
        reconciliation_id,
        cast(row_type as LowCardinality(String)) as row_type,
        -- a match a person confirmed is MATCHED, even one the rules flagged for investigation
        cast(if(decision = 'CONFIRMED', 'MATCHED', match_status) as LowCardinality(String)) as match_status,
        cast(match_rule as LowCardinality(Nullable(String))) as match_rule,
        rule_priority,
        cast(confidence as Nullable(Decimal(3, 2))) as confidence,
        match_group_id,
        reconciliation_date,
        cast(institution as LowCardinality(Nullable(String))) as institution,
        account_id,
        bank_transaction_id,
        booking_date,
        cast(credit_debit_type as LowCardinality(Nullable(String))) as credit_debit_type,
        cast(bank_category as LowCardinality(Nullable(String))) as bank_category,
        cast(bank_role as LowCardinality(Nullable(String))) as bank_role,
        transaction_name,
        cast(bank_amount_brl as Nullable(Decimal(18, 4))) as bank_amount_brl,
        bank_counterparty_tax_id,
        fx_contract_number,
        cast(erp_document_type as LowCardinality(Nullable(String))) as erp_document_type,
        erp_document_id,
        erp_settlement_id,
        cast(erp_component as LowCardinality(Nullable(String))) as erp_component,
        erp_date,
        erp_counterparty_id,
        cast(erp_currency as LowCardinality(Nullable(String))) as erp_currency,
        cast(erp_amount as Nullable(Decimal(18, 4))) as erp_amount,
        cast(erp_amount_brl as Nullable(Decimal(18, 4))) as erp_amount_brl,
        cast(date_difference_days as Nullable(Int32)) as date_difference_days,
        cast(amount_difference_brl as Nullable(Decimal(18, 4))) as amount_difference_brl,
        if(
            decision = 'REJECTED', concat('a proposed match was rejected by ', assumeNotNull(decided_by), '; ', reason),
            reason
        ) as reason,
        cast(decision as LowCardinality(Nullable(String))) as decision,
        cast(decided_by as Nullable(String)) as decided_by,
        cast(decided_at as Nullable(DateTime64(3, 'UTC'))) as decided_at
    from decided

)

select * from final
