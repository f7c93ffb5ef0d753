"""The cockpit's words in Brazilian Portuguese (default) and English. `text(key, language)`; unknown keys show as is."""

LANGUAGES = {"pt": "Português (Brasil)", "en": "English"}

PAGES = {  # page id -> title per language; the order is the menu's
    "hoje": {"pt": "Hoje", "en": "Today"},
    "caixa": {"pt": "Caixa", "en": "Cash"},
    "cambio": {"pt": "Câmbio", "en": "FX"},
    "importacoes": {"pt": "Importações", "en": "Imports"},
    "conciliacao": {"pt": "Conciliação", "en": "Reconciliation"},
    "fornecedores": {"pt": "Fornecedores", "en": "Suppliers"},
}

WORDS = {
    "app_title": {"pt": "Cockpit financeiro Importaú", "en": "Importaú finance cockpit"},
    "language": {"pt": "Idioma", "en": "Language"},
    "page": {"pt": "Página", "en": "Page"},
    "period": {"pt": "Período", "en": "Date range"},
    "currencies": {"pt": "Moedas", "en": "Currencies"},
    "banks": {"pt": "Bancos", "en": "Banks"},
    "all": {"pt": "todas", "en": "all"},
    "data_as_of": {"pt": "Dados publicados em", "en": "Data published at"},
    "server_live": {"pt": "Servidor ClickHouse (papel importau_bi)", "en": "ClickHouse server (importau_bi role)"},
    "no_rows": {"pt": "Nada neste período e filtros.", "en": "Nothing for this range and filters."},
    # Hoje
    "recommendations": {"pt": "Recomendações", "en": "Recommendations"},
    "priority_1": {"pt": "Prioridade 1", "en": "Priority 1"},
    "expected_effect": {"pt": "Efeito esperado", "en": "Expected effect"},
    "as_of": {"pt": "Posição em", "en": "As of"},
    "range": {"pt": "Faixa", "en": "Range"},
    "expires": {"pt": "Expira em", "en": "Expires on"},
    "priority": {"pt": "Prioridade", "en": "Priority"},
    "evidence": {"pt": "Evidências (versões de modelo, entradas)", "en": "Evidence (model versions, inputs)"},
    # Caixa
    "balances": {"pt": "Saldos bancários", "en": "Bank balances"},
    "receivables_90d": {"pt": "A receber (90 dias)", "en": "Receivables (90 days)"},
    "payables_90d": {"pt": "A pagar (90 dias)", "en": "Payables (90 days)"},
    "projected_position": {"pt": "Posição projetada (90 dias)", "en": "Projected position (90 days)"},
    "cash_projection": {"pt": "Projeção de caixa de 90 dias por dia", "en": "90-day cash projection by day"},
    "balances_by_bank": {"pt": "Saldos por banco", "en": "Balances by bank"},
    "due": {"pt": "A pagar e a receber nos próximos 90 dias", "en": "Payables and receivables due in 90 days"},
    # Câmbio
    "exposure": {"pt": "Exposição cambial por moeda e vencimento", "en": "FX exposure by currency and due bucket"},
    "ptax_history": {"pt": "PTAX venda e previsão", "en": "PTAX selling rate and forecast"},
    "no_forecast": {
        "pt": "Sem previsão do modelo de câmbio ainda (ml.fx_forecast__scores vazio ou inacessível).",
        "en": "No FX model forecast yet (ml.fx_forecast__scores empty or not readable).",
    },
    "baseline_forecast": {
        "pt": "Previsão da linha de base (passeio aleatório: a PTAX de hoje, com a faixa de 90 % dos movimentos "
        "recentes): nenhum modelo de câmbio a supera ainda.",
        "en": "Baseline forecast (random walk: today's PTAX, with the 90 % range of recent moves): no FX model beats "
        "it yet.",
    },
    "fx_gain": {"pt": "Variação cambial realizada e não realizada", "en": "Realised and unrealised FX gain/loss"},
    "realised": {"pt": "Realizada", "en": "Realised"},
    "unrealised": {"pt": "Não realizada", "en": "Unrealised"},
    # Importações
    "landed_cost": {"pt": "Custo de importação por declaração", "en": "Landed cost per declaration"},
    "taxes_by_type": {"pt": "Tributos por tipo", "en": "Taxes by type"},
    "erp_vs_law": {"pt": "Onde o ERP difere da lei", "en": "Where the ERP differs from the law"},
    "declarations": {"pt": "Declarações", "en": "Declarations"},
    "landed_total": {"pt": "Custo total", "en": "Landed total"},
    "erp_minus_law": {"pt": "ERP − lei", "en": "ERP − law"},
    # Conciliação
    "matched": {"pt": "Conciliados", "en": "Matched"},
    "needs_investigation": {"pt": "Investigar", "en": "Investigate"},
    "unmatched_bank": {"pt": "Banco sem ERP", "en": "Bank without ERP"},
    "unmatched_erp": {"pt": "ERP sem banco", "en": "ERP without bank"},
    "confirmed": {"pt": "Confirmados", "en": "Confirmed"},
    "rejected": {"pt": "Rejeitados", "en": "Rejected"},
    "reviewed_precision": {"pt": "Precisão revisada", "en": "Reviewed precision"},
    "exceptions": {"pt": "Fila de exceções", "en": "Exceptions queue"},
    "proposed": {"pt": "Conciliações propostas para revisar", "en": "Proposed matches to review"},
    "choose_match": {"pt": "Conciliação", "en": "Match"},
    "your_name": {"pt": "Seu nome", "en": "Your name"},
    "note": {"pt": "Observação", "en": "Note"},
    "confirm": {"pt": "Confirmar", "en": "Confirm"},
    "reject": {"pt": "Rejeitar", "en": "Reject"},
    "recorded": {
        "pt": "Decisão registrada. Entra em fct_payment_reconciliation no próximo dbt build.",
        "en": "Decision recorded. It reaches fct_payment_reconciliation at the next dbt build.",
    },
    "pending": {"pt": "Decisões registradas", "en": "Recorded decisions"},
    "decided": {"pt": "Decisões já aplicadas", "en": "Decisions applied"},
    "nothing_to_review": {"pt": "Nada a revisar.", "en": "Nothing to review."},
    # Fornecedores
    "suppliers": {"pt": "Fornecedores por gasto", "en": "Suppliers by spend"},
    "concentration": {"pt": "Concentração de gasto", "en": "Spend concentration"},
    "top_3_share": {"pt": "Top 3 no gasto", "en": "Top 3 share of spend"},
    "hhi": {"pt": "Índice HHI", "en": "HHI"},
    "class_a": {"pt": "Fornecedores classe A", "en": "Class A suppliers"},
    "single_sourced": {"pt": "Produtos de fonte única em risco", "en": "Single-sourced products at risk"},
}


def text(key: str, language: str) -> str:
    entry = WORDS.get(key) or PAGES.get(key)
    return entry.get(language, entry["pt"]) if entry else key
