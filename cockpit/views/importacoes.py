"""Importações: landed cost per declaration and per unit, taxes by type, where the ERP differs from the law."""

import streamlit as st

from cockpit.i18n import text
from cockpit.views.common import Context, show_table, to_chart

DIFFERENCES = (
    "customs_value_difference_brl",
    "ii_difference_brl",
    "ipi_difference_brl",
    "pis_difference_brl",
    "cofins_difference_brl",
    "icms_difference_brl",
    "landed_cost_difference_brl",
)


def render(context: Context) -> None:
    language = context.language
    st.subheader(text("taxes_by_type", language))
    taxes = context.data.frame("TAXES_BY_TYPE", context.filters)
    left, right = st.columns([2, 3])
    with left:
        show_table(taxes, language, money=("amount_brl",))
    with right:
        if not taxes.empty:
            st.bar_chart(to_chart(taxes, ("amount_brl",)), x="tax", y="amount_brl")
    st.subheader(text("landed_cost", language))
    show_table(
        context.data.frame("LANDED_COST_BY_DECLARATION", context.filters),
        language,
        money=("customs_value_brl", "landed_brl", "landed_per_unit_brl", "inventory_cost_brl", "erp_minus_law_brl"),
        dates=("registration_date",),
        numbers=("units",),
    )
    st.subheader(text("erp_vs_law", language))
    show_table(
        context.data.frame("ERP_VERSUS_LAW", context.filters),
        language,
        money=DIFFERENCES,
        dates=("registration_date",),
    )
