"""Conciliação: the exceptions queue, and confirm/reject on proposed matches (stored by cockpit/decisions.py)."""

import os

import pandas as pd
import streamlit as st

from cockpit import formatting
from cockpit.data import data_dir
from cockpit.decisions import DecisionError, decisions_path, read_decisions, record_decision
from cockpit.i18n import text
from cockpit.views.common import Context, first_row, show_table

STATUS = (
    ("matched", "matched"),
    ("needs_investigation", "needs_investigation"),
    ("unmatched_bank", "unmatched_bank"),
    ("unmatched_erp", "unmatched_erp"),
    ("confirmed", "confirmed"),
    ("rejected", "rejected"),
)


def _label(row: dict, language: str) -> str:
    return (
        f"{formatting.day(row['booking_date'], language)} · {row['institution']} · "
        f"{formatting.money(row['bank_amount_brl'], language)} → {row['erp_document_type']} {row['erp_document_id']}"
        f" · {row['match_rule']} {formatting.number(row['confidence'], 2, language)} · {row['match_status']}"
    )


def render(context: Context) -> None:
    language = context.language
    status = first_row(context.data.frame("RECONCILIATION_STATUS", context.filters))
    columns = st.columns(len(STATUS) + 1)
    for column, (key, field) in zip(columns, STATUS, strict=False):
        column.metric(text(key, language), str(status.get(field, 0)))
    columns[-1].metric(
        text("reviewed_precision", language), formatting.percent(status.get("reviewed_precision_pct"), 1, language)
    )
    st.subheader(text("proposed", language))
    proposed = context.data.frame("PROPOSED_MATCHES", context.filters)
    if proposed.empty:
        st.info(text("nothing_to_review", language))
    else:
        _review(proposed, language)
    st.subheader(text("exceptions", language))
    show_table(
        context.data.frame("EXCEPTIONS_QUEUE", context.filters),
        language,
        money=("bank_amount_brl", "erp_amount_brl", "amount_difference_brl"),
        dates=("reconciliation_date",),
        hide=("reconciliation_id",),
    )
    st.subheader(text("decided", language))
    show_table(
        context.data.frame("DECIDED_MATCHES", context.filters),
        language,
        money=("bank_amount_brl",),
        hide=("reconciliation_id",),
    )


def _review(proposed: pd.DataFrame, language: str) -> None:
    rows = proposed.to_dict("records")
    labels = {row["reconciliation_id"]: _label(row, language) for row in rows}
    chosen = st.selectbox(text("choose_match", language), list(labels), format_func=labels.get, key="match")
    row = next(r for r in rows if r["reconciliation_id"] == chosen)
    st.caption(f"{row['reason']} · {row['transaction_name']}")
    name = st.text_input(text("your_name", language), value=os.environ.get("IMPORTAU_COCKPIT_USER", ""), key="who")
    note = st.text_input(text("note", language), key="note")
    confirm, reject = st.columns(2)
    decision = None
    if confirm.button(text("confirm", language), key="confirm", type="primary"):
        decision = "CONFIRMED"
    if reject.button(text("reject", language), key="reject"):
        decision = "REJECTED"
    path = decisions_path(data_dir())
    if decision:
        try:
            record_decision(path, chosen, decision, name, note)
            st.success(text("recorded", language))
        except DecisionError as error:
            st.error(str(error))
    recorded = read_decisions(path)
    if recorded:
        with st.expander(f"{text('pending', language)} ({len(recorded)})"):
            st.dataframe(pd.DataFrame(recorded[-20:][::-1]), hide_index=True, width="stretch")
