"""Hoje: today's recommendations by priority, with action, expected effect and range, expiry, and evidence."""

import json

import streamlit as st

from cockpit import formatting
from cockpit.i18n import text
from cockpit.views.common import Context, first_row


def render(context: Context) -> None:
    language = context.language
    summary = first_row(context.data.frame("RECOMMENDATIONS_SUMMARY", context.filters))
    columns = st.columns(4)
    columns[0].metric(text("as_of", language), formatting.day(summary.get("latest_as_of_date"), language))
    columns[1].metric(text("recommendations", language), str(summary.get("recommendations", 0)))
    columns[2].metric(text("priority_1", language), str(summary.get("priority_1", 0)))
    columns[3].metric(text("expected_effect", language), formatting.money(summary.get("expected_effect_brl"), language))
    rows = context.data.frame("RECOMMENDATIONS_TODAY", context.filters)
    if rows.empty:
        st.info(text("no_rows", language))
        return
    for row in rows.to_dict("records"):
        title = (
            f"P{row['priority']} · {row['recommendation_type']} · {row['subject_id']} · "
            f"{text('expected_effect', language)} {formatting.money(row['expected_effect_brl'], language)}"
        )
        with st.expander(title):
            st.markdown(row["action"])
            st.markdown(
                f"**{text('range', language)}:** {formatting.money(row['effect_low_brl'], language)} … "
                f"{formatting.money(row['effect_high_brl'], language)}  \n"
                f"**{text('expires', language)}:** {formatting.day(row['expires_on'], language)}  \n"
                f"`{row['recommendation_type']}` · `{row['subject_type']}` `{row['subject_id']}`"
            )
            st.caption(text("evidence", language))
            try:
                st.json(json.loads(row["evidence"]), expanded=False)
            except (TypeError, ValueError):
                st.code(str(row["evidence"]))
