"""Fornecedores: reliability, lead time, spend concentration, single-sourced products at risk."""

import streamlit as st

from cockpit import formatting
from cockpit.i18n import text
from cockpit.views.common import Context, first_row, show_table


def render(context: Context) -> None:
    language = context.language
    st.subheader(text("concentration", language))
    concentration = first_row(context.data.frame("SPEND_CONCENTRATION", context.filters))
    columns = st.columns(3)
    columns[0].metric(
        text("top_3_share", language), formatting.percent(concentration.get("top_3_share_pct"), 1, language)
    )
    columns[1].metric(text("hhi", language), formatting.number(concentration.get("hhi"), 0, language))
    columns[2].metric(text("class_a", language), str(concentration.get("class_a_suppliers", 0)))
    st.subheader(text("suppliers", language))
    show_table(
        context.data.frame("SUPPLIERS", context.filters),
        language,
        money=("fob_brl",),
        percents=("share_of_spend_pct", "cumulative_spend_share_pct", "on_time_rate_pct"),
        numbers=("avg_lead_time_days",),
    )
    st.subheader(text("single_sourced", language))
    show_table(
        context.data.frame("SINGLE_SOURCED_AT_RISK", context.filters),
        language,
        money=("purchased_fob_brl",),
        percents=("on_time_rate_pct",),
        numbers=("avg_lead_time_days",),
    )
