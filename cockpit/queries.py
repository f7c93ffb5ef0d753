"""Every figure of the cockpit, as the SQL a BI tool would run on the marts (ClickHouse dialect).

Parameters, bound by ClickHouse (never pasted into the text): `start` and `end` (Date, the sidebar's date range),
`currencies` and `banks` (Array(String); empty = all). A page shows what these queries return, formatted; it
computes nothing itself. "As of" figures take the latest day the mart has within the range.
"""

CURRENCY = "(empty({currencies:Array(String)}) OR currency IN {currencies:Array(String)})"
SUPPLIER_CURRENCY = "(empty({currencies:Array(String)}) OR supplier.currency IN {currencies:Array(String)})"
BANK = "(empty({banks:Array(String)}) OR institution IN {banks:Array(String)})"

# ------------------------------------------------------------------------------------------------ filters
FILTER_OPTIONS = """
SELECT kind, value
FROM (
    SELECT 'currency' AS kind, toString(currency) AS value FROM marts.fct_fx_exposure_daily GROUP BY currency
    UNION ALL
    SELECT 'bank' AS kind, toString(assumeNotNull(institution)) AS value FROM marts.fct_cash_position_daily
    WHERE institution IS NOT NULL GROUP BY institution
    UNION ALL
    SELECT 'first_day' AS kind, toString(min(date)) AS value FROM marts.fct_cash_position_daily
    UNION ALL
    SELECT 'last_day' AS kind, toString(max(date)) AS value FROM marts.fct_cash_position_daily
)
ORDER BY kind, value
"""

# ------------------------------------------------------------------------------------------------- Hoje
RECOMMENDATIONS_TODAY = """
SELECT
    priority,
    recommendation_type,
    action_code,
    subject_type,
    subject_id,
    as_of_date,
    action,
    expected_effect_brl,
    effect_low_brl,
    effect_high_brl,
    expires_on,
    evidence,
    recommendation_id
FROM marts.fct_recommendations
WHERE as_of_date = (
    SELECT max(as_of_date) FROM marts.fct_recommendations WHERE as_of_date <= {end:Date}
)
ORDER BY priority, expected_effect_brl DESC, recommendation_id
"""

RECOMMENDATIONS_SUMMARY = """
SELECT
    max(as_of_date) AS latest_as_of_date,
    count() AS recommendations,
    countIf(priority = 1) AS priority_1,
    sum(expected_effect_brl) AS expected_effect_brl
FROM marts.fct_recommendations
WHERE as_of_date = (
    SELECT max(as_of_date) FROM marts.fct_recommendations WHERE as_of_date <= {end:Date}
)
"""

# ------------------------------------------------------------------------------------------------ Caixa
CASH_PROJECTION = f"""
SELECT
    date,
    sumIf(amount_brl, line_type = 'account_balance' AND {BANK}) AS balances_brl,
    sumIf(amount_brl, line_type = 'scheduled_receivables' AND {CURRENCY}) AS receivables_90d_brl,
    sumIf(amount_brl, line_type = 'scheduled_payables' AND {CURRENCY}) AS payables_90d_brl,
    balances_brl + receivables_90d_brl + payables_90d_brl AS projected_position_brl
FROM marts.fct_cash_position_daily
WHERE date BETWEEN {{start:Date}} AND {{end:Date}}
GROUP BY date
ORDER BY date
"""

CASH_AS_OF = f"""
SELECT
    max(date) AS as_of_date,
    sumIf(amount_brl, line_type = 'account_balance' AND {BANK}) AS balances_brl,
    sumIf(amount_brl, line_type = 'scheduled_receivables' AND {CURRENCY}) AS receivables_90d_brl,
    sumIf(amount_brl, line_type = 'scheduled_payables' AND {CURRENCY}) AS payables_90d_brl,
    balances_brl + receivables_90d_brl + payables_90d_brl AS projected_position_brl
FROM marts.fct_cash_position_daily
WHERE date = (SELECT max(date) FROM marts.fct_cash_position_daily WHERE date BETWEEN {{start:Date}} AND {{end:Date}})
"""

BALANCES_BY_BANK = f"""
SELECT
    assumeNotNull(institution) AS institution,
    count() AS accounts,
    sum(amount_brl) AS balance_brl
FROM marts.fct_cash_position_daily
WHERE
    line_type = 'account_balance'
    AND {BANK}
    AND date = (SELECT max(date) FROM marts.fct_cash_position_daily WHERE date BETWEEN {{start:Date}} AND {{end:Date}})
GROUP BY institution
ORDER BY balance_brl DESC
"""

DUE_BY_CURRENCY = f"""
SELECT
    line_type,
    currency,
    sum(items_count) AS items,
    sum(amount) AS amount,
    sum(overdue_amount) AS overdue_amount,
    sum(amount_brl) AS amount_brl
FROM marts.fct_cash_position_daily
WHERE
    line_type IN ('scheduled_payables', 'scheduled_receivables')
    AND {CURRENCY}
    AND date = (SELECT max(date) FROM marts.fct_cash_position_daily WHERE date BETWEEN {{start:Date}} AND {{end:Date}})
GROUP BY line_type, currency
ORDER BY line_type, currency
"""

# ----------------------------------------------------------------------------------------------- Câmbio
EXPOSURE_BY_BUCKET = f"""
SELECT
    currency,
    date,
    net_exposure_amount,
    net_exposure_brl,
    net_exposure_brl_change,
    net_brl_due_overdue,
    net_brl_due_0_30,
    net_brl_due_31_60,
    net_brl_due_61_90,
    net_brl_due_over_90
FROM marts.fct_fx_exposure_daily
WHERE
    {CURRENCY}
    AND date = (SELECT max(date) FROM marts.fct_fx_exposure_daily WHERE date BETWEEN {{start:Date}} AND {{end:Date}})
ORDER BY currency
"""

PTAX_HISTORY = f"""
SELECT date, currency, ptax_sell
FROM marts.fct_fx_rates_daily
WHERE date BETWEEN {{start:Date}} AND {{end:Date}} AND currency IN (
    SELECT currency FROM marts.fct_fx_exposure_daily GROUP BY currency
) AND {CURRENCY}
ORDER BY date, currency
"""

# ml.fx_forecast__scores: the champion's latest forecast (absent until the model first scored)
PTAX_FORECAST = f"""
SELECT currency, origin_date, target_date, horizon_days, forecast_rate, lower_rate, upper_rate, interval_level,
    model_version
FROM ml.fx_forecast__scores
WHERE {CURRENCY} AND origin_date = (
    SELECT max(origin_date) FROM ml.fx_forecast__scores WHERE origin_date <= {{end:Date}}
)
ORDER BY currency, target_date
"""

# which kind of version made that forecast: `model`, or `baseline` while no FX model beats the random walk with its
# empirical interval (ml_assets/common/baseline.py); a table from before `model_kind` has no such column until its
# next scoring run, which the page reads as "unknown" (CockpitData.frame, optional)
PTAX_FORECAST_KIND = """
SELECT any(model_kind) AS model_kind, any(model_version) AS model_version
FROM ml.fx_forecast__scores
WHERE origin_date = (SELECT max(origin_date) FROM ml.fx_forecast__scores WHERE origin_date <= {end:Date})
"""

FX_GAIN_BY_CURRENCY = f"""
SELECT
    currency,
    count() AS payables,
    sum(paid_principal_brl) AS paid_principal_brl,
    sum(realised_fx_gain_brl) AS realised_gain_brl,
    sum(paid_iof_brl + paid_fee_brl) AS iof_and_fees_brl,
    sum(unrealised_fx_gain_brl) AS unrealised_gain_brl
FROM marts.fct_fx_variance
WHERE invoice_date BETWEEN {{start:Date}} AND {{end:Date}} AND {CURRENCY}
GROUP BY currency
ORDER BY currency
"""

# ------------------------------------------------------------------------------------------ Importações
LANDED_COST_BY_DECLARATION = f"""
SELECT
    declaration_id,
    registration_date,
    any(currency) AS invoice_currency,
    sum(quantity) AS units,
    sum(customs_value_brl) AS customs_value_brl,
    sum(landed_cost_brl) AS landed_brl,
    round(landed_brl / units, 2) AS landed_per_unit_brl,
    sum(landed_cost_net_of_credits_brl) AS inventory_cost_brl,
    sum(landed_cost_difference_brl) AS erp_minus_law_brl
FROM marts.fct_import_landed_cost
WHERE registration_date BETWEEN {{start:Date}} AND {{end:Date}} AND {CURRENCY}
GROUP BY declaration_id, registration_date
ORDER BY registration_date DESC, declaration_id DESC
"""

TAXES_BY_TYPE = f"""
SELECT tax, amount_brl
FROM (
    SELECT
        sum(ii_brl) AS ii,
        sum(ipi_brl) AS ipi,
        sum(pis_brl) AS pis,
        sum(cofins_brl) AS cofins,
        sum(siscomex_fee_brl) AS siscomex,
        sum(afrmm_brl) AS afrmm,
        sum(icms_brl) AS icms
    FROM marts.fct_import_landed_cost
    WHERE registration_date BETWEEN {{start:Date}} AND {{end:Date}} AND {CURRENCY}
)
ARRAY JOIN
    ['II', 'IPI', 'PIS', 'COFINS', 'SISCOMEX', 'AFRMM', 'ICMS'] AS tax,
    [ii, ipi, pis, cofins, siscomex, afrmm, icms] AS amount_brl
"""

ERP_VERSUS_LAW = f"""
SELECT
    declaration_id,
    registration_date,
    sum(customs_value_difference_brl) AS customs_value_difference_brl,
    sum(ii_difference_brl) AS ii_difference_brl,
    sum(ipi_difference_brl) AS ipi_difference_brl,
    sum(pis_difference_brl) AS pis_difference_brl,
    sum(cofins_difference_brl) AS cofins_difference_brl,
    sum(icms_difference_brl) AS icms_difference_brl,
    sum(landed_cost_difference_brl) AS landed_cost_difference_brl
FROM marts.fct_import_landed_cost
WHERE declaration_has_erp_difference AND registration_date BETWEEN {{start:Date}} AND {{end:Date}} AND {CURRENCY}
GROUP BY declaration_id, registration_date
ORDER BY abs(landed_cost_difference_brl) DESC, declaration_id
"""

# ------------------------------------------------------------------------------------------- Conciliação
RECONCILIATION_STATUS = f"""
SELECT
    countIf(row_type = 'MATCH' AND match_status = 'MATCHED') AS matched,
    countIf(match_status = 'NEEDS_INVESTIGATION') AS needs_investigation,
    countIf(row_type = 'UNMATCHED_BANK') AS unmatched_bank,
    countIf(row_type = 'UNMATCHED_ERP') AS unmatched_erp,
    countIf(decision = 'CONFIRMED') AS confirmed,
    -- a rejected match leaves its bank movement unmatched, marked REJECTED
    countIf(decision = 'REJECTED' AND row_type = 'UNMATCHED_BANK') AS rejected,
    if(confirmed + rejected > 0, round(100 * confirmed / (confirmed + rejected), 1), NULL) AS reviewed_precision_pct
FROM marts.fct_payment_reconciliation
WHERE reconciliation_date BETWEEN {{start:Date}} AND {{end:Date}} AND (institution IS NULL OR {BANK})
"""

EXCEPTIONS_QUEUE = f"""
SELECT
    match_status,
    row_type,
    reconciliation_date,
    institution,
    bank_amount_brl,
    transaction_name,
    erp_document_type,
    erp_document_id,
    erp_amount_brl,
    amount_difference_brl,
    reason,
    reconciliation_id
FROM marts.fct_payment_reconciliation
WHERE
    match_status != 'MATCHED'
    AND reconciliation_date BETWEEN {{start:Date}} AND {{end:Date}}
    AND (institution IS NULL OR {BANK})
ORDER BY match_status, reconciliation_date DESC, reconciliation_id
"""

# Proposed matches a person has not decided yet, least sure first.
PROPOSED_MATCHES = f"""
SELECT
    reconciliation_id,
    match_status,
    match_rule,
    confidence,
    booking_date,
    institution,
    bank_amount_brl,
    transaction_name,
    erp_document_type,
    erp_document_id,
    erp_date,
    erp_amount_brl,
    amount_difference_brl,
    reason
FROM marts.fct_payment_reconciliation
WHERE
    row_type = 'MATCH'
    AND decision IS NULL
    AND reconciliation_date BETWEEN {{start:Date}} AND {{end:Date}}
    AND {BANK}
ORDER BY match_status = 'NEEDS_INVESTIGATION' DESC, confidence, reconciliation_date DESC, reconciliation_id
LIMIT 50
"""

DECIDED_MATCHES = f"""
SELECT reconciliation_id, decision, decided_by, decided_at, match_status, match_rule, bank_amount_brl,
    erp_document_id
FROM marts.fct_payment_reconciliation
WHERE decision IS NOT NULL AND reconciliation_date BETWEEN {{start:Date}} AND {{end:Date}}
    AND (institution IS NULL OR {BANK})
ORDER BY decided_at DESC, reconciliation_id
LIMIT 50
"""

# ------------------------------------------------------------------------------------------ Fornecedores
SUPPLIERS = f"""
SELECT
    supplier_name,
    country,
    currency,
    share_of_spend_pct,
    cumulative_spend_share_pct,
    spend_class,
    on_time_rate_pct,
    avg_lead_time_days,
    max_lead_time_days,
    single_sourced_sku_count,
    fob_brl
FROM marts.dim_supplier
WHERE NOT is_deleted AND {CURRENCY}
ORDER BY spend_rank
"""

SPEND_CONCENTRATION = f"""
SELECT
    count() AS suppliers,
    countIf(spend_class = 'A') AS class_a_suppliers,
    sumIf(share_of_spend_pct, spend_rank <= 3) AS top_3_share_pct,
    sum(share_of_spend_pct * share_of_spend_pct) AS hhi
FROM marts.dim_supplier
WHERE NOT is_deleted AND {CURRENCY}
"""

SINGLE_SOURCED_AT_RISK = f"""
SELECT
    product.sku AS sku,
    product.product_description AS product_description,
    supplier.supplier_name AS supplier_name,
    supplier.on_time_rate_pct AS on_time_rate_pct,
    supplier.avg_lead_time_days AS avg_lead_time_days,
    product.purchased_fob_brl AS purchased_fob_brl
FROM marts.dim_product AS product
INNER JOIN marts.dim_supplier AS supplier ON supplier.supplier_id = product.main_supplier_id
WHERE product.is_single_sourced AND NOT product.is_deleted AND {SUPPLIER_CURRENCY}
ORDER BY supplier.on_time_rate_pct, product.purchased_fob_brl DESC, product.sku
LIMIT 30
"""
