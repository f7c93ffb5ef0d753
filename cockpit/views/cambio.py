"""Câmbio: exposure by currency and due bucket, PTAX history with the forecast fan chart, realised and unrealised
FX gain/loss."""

import altair as alt
import streamlit as st

from cockpit.i18n import text
from cockpit.views.common import Context, show_table, to_chart

BUCKETS = (
    "net_exposure_brl",
    "net_exposure_brl_change",
    "net_brl_due_overdue",
    "net_brl_due_0_30",
    "net_brl_due_31_60",
    "net_brl_due_61_90",
    "net_brl_due_over_90",
)


def forecast_kind(context: Context) -> str | None:
    """`model` or `baseline` (the FX model's baseline serves while no model beats it); None when unknown."""
    kind = context.data.frame("PTAX_FORECAST_KIND", context.filters, optional=True)
    return None if kind is None or kind.empty else str(kind["model_kind"].iloc[0])


def render(context: Context) -> None:
    language = context.language
    st.subheader(text("exposure", language))
    show_table(
        context.data.frame("EXPOSURE_BY_BUCKET", context.filters),
        language,
        money=BUCKETS,
        dates=("date",),
        numbers=("net_exposure_amount",),
    )
    st.subheader(text("ptax_history", language))
    history = context.data.frame("PTAX_HISTORY", context.filters)
    forecast = context.data.frame("PTAX_FORECAST", context.filters, optional=True)
    if history.empty:
        st.info(text("no_rows", language))
    else:
        layers = [
            alt.Chart(to_chart(history, ("ptax_sell",)))
            .mark_line()
            .encode(x=alt.X("date:T", title=None), y=alt.Y("ptax_sell:Q", title="PTAX"), color="currency:N")
        ]
        if forecast is not None and not forecast.empty:
            fan = to_chart(forecast, ("forecast_rate", "lower_rate", "upper_rate"))
            layers.append(
                alt.Chart(fan)
                .mark_area(opacity=0.25)
                .encode(x="target_date:T", y=alt.Y("lower_rate:Q", title="PTAX"), y2="upper_rate:Q", color="currency:N")
            )
            layers.append(
                alt.Chart(fan)
                .mark_line(strokeDash=[4, 3])
                .encode(x="target_date:T", y=alt.Y("forecast_rate:Q", title="PTAX"), color="currency:N")
            )
        st.altair_chart(alt.layer(*layers), width="stretch")  # one PTAX axis: history, forecast and its band
        if forecast is None or forecast.empty:
            st.caption(text("no_forecast", language))
        elif forecast_kind(context) == "baseline":
            st.caption(text("baseline_forecast", language))
    st.subheader(text("fx_gain", language))
    show_table(
        context.data.frame("FX_GAIN_BY_CURRENCY", context.filters),
        language,
        money=("paid_principal_brl", "realised_gain_brl", "iof_and_fees_brl", "unrealised_gain_brl"),
    )
