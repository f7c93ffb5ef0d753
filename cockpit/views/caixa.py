"""Caixa: the 90-day cash projection as a chart, balances by bank, payables and receivables due."""

import streamlit as st

from cockpit import formatting
from cockpit.i18n import text
from cockpit.views.common import Context, first_row, show_table, to_chart

LINES = ("balances_brl", "receivables_90d_brl", "payables_90d_brl", "projected_position_brl")
KEYS = ("balances", "receivables_90d", "payables_90d", "projected_position")  # their titles (i18n)


def render(context: Context) -> None:
    language = context.language
    now = first_row(context.data.frame("CASH_AS_OF", context.filters))
    columns = [*st.columns(2), *st.columns(2)]  # 2 x 2: amounts of millions need the width
    for column, key, value in zip(columns, KEYS, LINES, strict=True):
        column.metric(text(key, language), formatting.money(now.get(value), language))
    st.caption(f"{text('as_of', language)} {formatting.day(now.get('as_of_date'), language)}")
    st.subheader(text("cash_projection", language))
    projection = context.data.frame("CASH_PROJECTION", context.filters)
    if projection.empty:
        st.info(text("no_rows", language))
    else:
        names = {line: text(key, language) for key, line in zip(KEYS, LINES, strict=True)}
        chart = to_chart(projection, LINES).rename(columns=names)
        st.line_chart(chart, x="date", y=list(names.values()))
    left, right = st.columns(2)
    with left:
        st.subheader(text("balances_by_bank", language))
        show_table(context.data.frame("BALANCES_BY_BANK", context.filters), language, money=("balance_brl",))
    with right:
        st.subheader(text("due", language))
        show_table(
            context.data.frame("DUE_BY_CURRENCY", context.filters),
            language,
            money=("amount_brl",),
            numbers=("amount", "overdue_amount"),
        )
