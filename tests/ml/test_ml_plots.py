"""Figures reach Dagster metadata as inline PNG Markdown images."""

import base64
import re

from ml_assets.common import plots


def test_markdown_image_is_an_inline_png():
    fig = plots.metric_bars({"h1": 0.98, "h5": 1.01, "h20": 1.03}, "MAE ratio", reference=1.0)
    markdown = plots.markdown_image(fig, "mae_ratio")
    found = re.fullmatch(r"!\[mae_ratio\]\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", markdown)
    assert found
    png = base64.b64decode(found.group(1))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (7 * plots.DPI, int(3.5 * plots.DPI))
    assert len(markdown) < 100_000
