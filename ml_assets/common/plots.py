"""Figures for Dagster metadata: matplotlib (Agg, no display) -> PNG bytes -> a Markdown image. No Dagster.

`figure()` builds a figure without pyplot, so nothing depends on a global backend or leaks between threads.
The orchestration wraps `markdown_image(...)` in `dg.MetadataValue.md`; the PNG travels inline as a data URI,
which the Dagster UI renders, so keep figures small (the default is 7 x 3.5 in at 80 dpi, about 30 kB).
"""

import base64
import io
from collections.abc import Mapping

from matplotlib.figure import Figure

DPI = 80


def figure(width: float = 7.0, height: float = 3.5) -> Figure:
    """A figure on the Agg canvas (Figure() without pyplot renders through Agg)."""
    return Figure(figsize=(width, height), layout="constrained")


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def markdown_png(png: bytes, alt: str) -> str:
    """A Markdown image whose source is the PNG itself (data URI)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


def markdown_image(fig: Figure, alt: str, dpi: int = DPI) -> str:
    return markdown_png(png_bytes(fig, dpi), alt)


def metric_bars(
    values: Mapping[str, float],
    title: str,
    reference: float | None = None,
    reference_label: str = "baseline",
) -> Figure:
    """One bar per named value (e.g. a metric per horizon or per class), with an optional reference line."""
    fig = figure()
    ax = fig.add_subplot()
    labels = list(values)
    ax.bar(range(len(labels)), [float(values[label]) for label in labels], color="#4C72B0")
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0, ha="right")
    if reference is not None:
        ax.axhline(reference, color="#C44E52", linestyle="--", label=reference_label)
        ax.legend(loc="best")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return fig


def line_chart(x, series: Mapping[str, list[float]], title: str, ylabel: str = "") -> Figure:
    """Several named series over a shared x axis (dates or numbers)."""
    fig = figure()
    ax = fig.add_subplot()
    for label, values in series.items():
        ax.plot(x, values, label=label, linewidth=1.2)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    return fig
