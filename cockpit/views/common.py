"""What every page shares: the context (data, filters, language) and tables formatted for a Brazilian reader."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from cockpit import formatting
from cockpit.data import CockpitData, Filters

# Column titles per language; a column not listed keeps its mart name.
COLUMNS = {
    "priority": ("Prioridade", "Priority"),
    "action": ("Ação", "Action"),
    "expected_effect_brl": ("Efeito esperado", "Expected effect"),
    "effect_low_brl": ("Efeito mínimo", "Effect low"),
    "effect_high_brl": ("Efeito máximo", "Effect high"),
    "expires_on": ("Expira em", "Expires on"),
    "institution": ("Banco", "Bank"),
    "accounts": ("Contas", "Accounts"),
    "balance_brl": ("Saldo", "Balance"),
    "line_type": ("Linha", "Line"),
    "currency": ("Moeda", "Currency"),
    "invoice_currency": ("Moeda", "Currency"),
    "items": ("Títulos", "Items"),
    "amount": ("Valor (moeda)", "Amount (currency)"),
    "overdue_amount": ("Vencido (moeda)", "Overdue (currency)"),
    "amount_brl": ("Valor em R$", "Amount in BRL"),
    "date": ("Data", "Date"),
    "net_exposure_amount": ("Exposição líquida (moeda)", "Net exposure (currency)"),
    "net_exposure_brl": ("Exposição líquida", "Net exposure"),
    "net_exposure_brl_change": ("Variação no dia", "Change on the day"),
    "net_brl_due_overdue": ("Vencido", "Overdue"),
    "net_brl_due_0_30": ("0–30 dias", "0–30 days"),
    "net_brl_due_31_60": ("31–60 dias", "31–60 days"),
    "net_brl_due_61_90": ("61–90 dias", "61–90 days"),
    "net_brl_due_over_90": ("> 90 dias", "> 90 days"),
    "payables": ("Títulos", "Payables"),
    "paid_principal_brl": ("Principal pago", "Principal paid"),
    "realised_gain_brl": ("Variação realizada", "Realised gain"),
    "iof_and_fees_brl": ("IOF e tarifas", "IOF and fees"),
    "unrealised_gain_brl": ("Variação não realizada", "Unrealised gain"),
    "declaration_id": ("Declaração", "Declaration"),
    "registration_date": ("Registro", "Registered"),
    "units": ("Unidades", "Units"),
    "customs_value_brl": ("Valor aduaneiro", "Customs value"),
    "landed_brl": ("Custo total", "Landed cost"),
    "landed_per_unit_brl": ("Custo por unidade", "Per unit"),
    "inventory_cost_brl": ("Custo de estoque (sem créditos)", "Inventory cost (net of credits)"),
    "erp_minus_law_brl": ("ERP − lei", "ERP − law"),
    "tax": ("Tributo", "Tax"),
    "customs_value_difference_brl": ("Dif. valor aduaneiro", "Customs value diff."),
    "ii_difference_brl": ("Dif. II", "II diff."),
    "ipi_difference_brl": ("Dif. IPI", "IPI diff."),
    "pis_difference_brl": ("Dif. PIS", "PIS diff."),
    "cofins_difference_brl": ("Dif. COFINS", "COFINS diff."),
    "icms_difference_brl": ("Dif. ICMS", "ICMS diff."),
    "landed_cost_difference_brl": ("Dif. custo total", "Landed cost diff."),
    "match_status": ("Situação", "Status"),
    "row_type": ("Tipo", "Type"),
    "reconciliation_date": ("Data", "Date"),
    "booking_date": ("Lançamento", "Booked"),
    "bank_amount_brl": ("Valor no banco", "Bank amount"),
    "transaction_name": ("Histórico", "Bank text"),
    "erp_document_type": ("Documento ERP", "ERP document"),
    "erp_document_id": ("Nº ERP", "ERP id"),
    "erp_date": ("Data ERP", "ERP date"),
    "erp_amount_brl": ("Valor no ERP", "ERP amount"),
    "amount_difference_brl": ("Diferença", "Difference"),
    "reason": ("Motivo", "Reason"),
    "match_rule": ("Regra", "Rule"),
    "confidence": ("Confiança", "Confidence"),
    "decision": ("Decisão", "Decision"),
    "decided_by": ("Por", "By"),
    "decided_at": ("Em (UTC)", "At (UTC)"),
    "supplier_name": ("Fornecedor", "Supplier"),
    "country": ("País", "Country"),
    "share_of_spend_pct": ("Participação no gasto", "Share of spend"),
    "cumulative_spend_share_pct": ("Acumulado", "Cumulative"),
    "spend_class": ("Classe", "Class"),
    "on_time_rate_pct": ("No prazo", "On time"),
    "avg_lead_time_days": ("Lead time médio (dias)", "Avg lead time (days)"),
    "max_lead_time_days": ("Lead time máx. (dias)", "Max lead time (days)"),
    "single_sourced_sku_count": ("SKUs de fonte única", "Single-sourced SKUs"),
    "fob_brl": ("Compras FOB", "FOB purchases"),
    "sku": ("SKU", "SKU"),
    "product_description": ("Produto", "Product"),
    "purchased_fob_brl": ("Compras FOB", "FOB purchases"),
}


@dataclass
class Context:
    data: CockpitData
    filters: Filters
    language: str


def column_title(name: str, language: str) -> str:
    titles = COLUMNS.get(name)
    return titles[0 if language == "pt" else 1] if titles else name


def show_table(
    frame: pd.DataFrame,
    language: str,
    money: tuple[str, ...] = (),
    dates: tuple[str, ...] = (),
    percents: tuple[str, ...] = (),
    numbers: tuple[str, ...] = (),
    hide: tuple[str, ...] = (),
) -> None:
    """The frame as the marts returned it, each value formatted (R$ 1.234,56, dd/mm/aaaa), titles translated."""
    shown = frame.drop(columns=[c for c in hide if c in frame.columns])
    for column in shown.columns:
        if column in money:
            shown[column] = [formatting.money(v, language) for v in shown[column]]
        elif column in dates:
            shown[column] = [formatting.day(v, language) for v in shown[column]]
        elif column in percents:
            shown[column] = [formatting.percent(v, 1, language) for v in shown[column]]
        elif column in numbers:
            shown[column] = [formatting.number(v, 2, language) for v in shown[column]]
        else:
            shown[column] = ["–" if formatting.is_missing(v) else str(v) for v in shown[column]]
    shown.columns = [column_title(c, language) for c in shown.columns]
    st.dataframe(shown, hide_index=True, width="stretch")


def to_chart(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.DataFrame:
    """Decimals as floats, for plotting only (tables and metrics keep the exact values)."""
    charted = frame.copy()
    for column in columns:
        charted[column] = pd.to_numeric(charted[column], errors="coerce").astype(float)
    return charted


def first_row(frame: pd.DataFrame) -> dict:
    """The first row with each column's own type (iloc would turn a row of ints and decimals into floats)."""
    return frame.to_dict("records")[0] if len(frame) else {}
