"""The committed recordings: rebuilt identically from their sources, labelled, real where they say so."""

import csv
import filecmp
import json
import shutil
from datetime import date
from decimal import Decimal

import pytest

from sandboxes.bcb_replay import layout
from sandboxes.bcb_replay.build_recordings import Builder
from sandboxes.bcb_replay.synthetic import Quote, cross_quote, read_closing_file

DATA = layout.DEFAULT_DATA_DIR
HISTORY = DATA / "sources" / "history"


def read_rows(relative: str) -> list[dict[str, str]]:
    with open(DATA / relative, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def recording_files() -> list[str]:
    return sorted(
        str(path.relative_to(DATA)) for path in DATA.rglob("*") if path.is_file() and "sources" not in path.parts
    )


def test_build_is_deterministic_and_the_committed_files_are_up_to_date(tmp_path):
    shutil.copytree(DATA / "sources", tmp_path / "sources")
    Builder(tmp_path).build()
    built = sorted(
        str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and "sources" not in p.parts
    )
    committed = [name for name in recording_files() if name != "README.md"]
    assert built == committed
    _, mismatch, errors = filecmp.cmpfiles(tmp_path, DATA, built, shallow=False)
    assert mismatch == [] and errors == []


def test_every_recording_row_is_labelled_and_the_catalog_counts_them():
    catalog = json.loads((DATA / layout.CATALOG).read_text(encoding="utf-8"))
    for name in recording_files():
        if not name.endswith(".csv") or name.startswith(layout.CLOSING_FILES_DIR):
            continue
        rows = read_rows(name)
        counts: dict[str, int] = {}
        for row in rows:
            assert row["provenance"] in layout.PROVENANCES, name
            counts[row["provenance"]] = counts.get(row["provenance"], 0) + 1
        assert catalog[name]["provenance"] == counts, name


@pytest.mark.parametrize(
    ("code", "history"),
    [
        (1, "usd_brl_ptax_sell_sgs1_daily.csv"),
        (11, "selic_daily_pct_sgs11.csv"),
        (12, "cdi_daily_pct_sgs12.csv"),
        (432, "selic_target_pct_sgs432.csv"),
        (21619, "eur_brl_ptax_sell_sgs21619_daily.csv"),
    ],
)
def test_real_sgs_recordings_equal_their_sources(code, history):
    with open(HISTORY / history, newline="") as handle:
        source = {row["date"]: Decimal(row["value"]) for row in csv.DictReader(handle)}
    rows = read_rows(f"sgs/{code}.csv")
    assert {row["date"]: Decimal(row["value"]) for row in rows} == source
    assert {row["provenance"] for row in rows} == {"real"}


def test_synthetic_series_are_labelled_synthetic():
    assert {row["provenance"] for row in read_rows("sgs/189.csv")} == {"synthetic"}
    assert {row["provenance"] for row in read_rows("closing/extra/CNY.csv")} == {"synthetic"}
    for currency in ("JPY", "CHF", "CAD"):
        assert {row["provenance"] for row in read_rows(f"ptax/{currency}.csv")} == {"synthetic"}
    gbp = read_rows("ptax/GBP.csv")
    assert {row["provenance"] for row in gbp if row["quoted_at"].startswith("2021-12-24")} == {"real"}
    assert {row["provenance"] for row in gbp if row["quoted_at"].startswith("2024")} == {"synthetic"}


def test_partly_synthetic_ptax_keeps_the_real_sell():
    usd_sell = {row["date"]: Decimal(row["value"]) for row in read_rows("sgs/1.csv")}
    rows = read_rows("ptax/USD.csv")
    closing = {row["quoted_at"][:10]: row for row in rows if row["bulletin"] == "Fechamento"}
    assert {day: Decimal(row["sell"]) for day, row in closing.items()} == usd_sell
    assert closing["2024-01-02"]["provenance"] == "real" and closing["2024-01-08"]["provenance"] == "partly_synthetic"
    assert Decimal(closing["2024-01-08"]["sell"]) - Decimal(closing["2024-01-08"]["buy"]) == Decimal("0.0006")


def test_synthetic_recipe_reproduces_the_real_reference_day():
    """Applied to the real USD rates of 2026-07-31, the parity recipe gives that file's own rows back."""
    reference = read_closing_file((DATA / "closing/files/20260731.csv").read_text(encoding="utf-8"))
    usd = reference["USD"]
    quote = Quote(usd.buy, usd.sell, Decimal(1), Decimal(1))
    for currency in ("GBP", "JPY", "CHF", "CAD", "CNY"):
        derived = cross_quote(quote, reference[currency])
        assert (derived.buy, derived.sell) == (reference[currency].buy, reference[currency].sell), currency


def test_demo_year_has_every_configured_currency_on_the_same_business_days():
    days = {
        currency: {row["quoted_at"][:10] for row in read_rows(f"ptax/{currency}.csv") if row["quoted_at"][:4] == "2024"}
        for currency in ("USD", "EUR", "GBP", "JPY", "CHF", "CAD")
    }
    days["CNY"] = {row["date"] for row in read_rows("closing/extra/CNY.csv")}
    usd = days["USD"]
    assert all(found == usd for found in days.values())
    assert "2024-11-15" not in usd and "2024-11-20" not in usd and "2024-11-19" in usd  # holidays are gaps


def test_recordings_stay_small():
    total = sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file())
    assert total < 3_000_000


def test_focus_recordings_keep_the_real_rows():
    rows = [row for row in read_rows("focus/ExpectativasMercadoAnuais.csv") if row["provenance"] == "real"]
    assert [(row["Data"], row["DataReferencia"], row["Mediana"]) for row in rows][:2] == [
        ("2024-01-02", "2023", "4.4590"),
        ("2024-01-02", "2023", "4.5034"),
    ]
    synthetic_days = {
        row["Data"] for row in read_rows("focus/ExpectativasMercadoSelic.csv") if row["provenance"] == "synthetic"
    }
    assert all(date.fromisoformat(day).year == 2024 for day in synthetic_days) and len(synthetic_days) >= 50
