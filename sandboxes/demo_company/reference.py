"""Read the real reference files of `data/reference/` (see its README for sources and licences).

Comex Stat import rows become product templates (NCM, unit, price and kg per unit, freight and insurance
ratios, transport mode, customs unit, origin country); NCM rates give II/IPI; the ANBIMA calendar gives
business days; the PTAX histories give USD and EUR rates; the 2026-07-31 closing file gives the CNY/USD parity
used to derive a synthetic CNY rate.
"""

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "data" / "reference"

VIA_TO_MODE = {"01": "SEA", "04": "AIR", "07": "ROAD"}
UNIT_CODES = {"10": "KG", "11": "UN", "13": "PAR", "17": "L", "21": "T"}
# Goods an importing distributor of industrial supplies carries (the chapters file 2 keeps in full).
CHAPTERS = {"39", "40", "73", "82", "83", "84", "85", "87", "90", "94", "95", "96"}
MIN_ROW_FOB_USD = 200
UNIT_PRICE_RANGE_USD = (Decimal("0.05"), Decimal("50000"))


def _rows(name: str, delimiter: str = ",") -> list[dict]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


@dataclass(frozen=True)
class Country:
    co_pais: str
    iso3: str
    iso2: str
    name: str
    currencies: tuple[str, ...]


@dataclass(frozen=True)
class NcmRate:
    ncm: str
    description: str
    ii_pct: Decimal
    ipi_pct: Decimal  # 0 when the NCM is "NT" (not taxed by IPI)


@dataclass(frozen=True)
class ComexRow:
    """One real Comex Stat import row, reduced to what a product template needs."""

    row_number: int
    ncm: str
    unit: str
    country: Country
    transport_mode: str
    customs_unit: str
    state: str
    fob_usd: Decimal
    freight_usd: Decimal
    insurance_usd: Decimal
    quantity: Decimal
    net_kg: Decimal

    @property
    def unit_price_usd(self) -> Decimal:
        return self.fob_usd / self.quantity

    @property
    def kg_per_unit(self) -> Decimal:
        return self.net_kg / self.quantity


@cache
def countries() -> dict[str, Country]:
    """MDIC country code -> country (ISO-3, ISO-2, invoice currencies the demo uses for it)."""
    return {
        r["co_pais"]: Country(
            r["co_pais"], r["iso3"], r["iso2"], r["name_en"], tuple(r["demo_invoice_currency"].split("|"))
        )
        for r in _rows("mdic_country_iso.csv")
    }


@cache
def ncm_rates() -> dict[str, NcmRate]:
    """NCM -> base-code II and IPI rates in percent (rows without a TIPI 'Ex' and still active)."""
    rates = {}
    for r in _rows("ncm_ii_ipi_rates_comex_sample.csv"):
        if r["ex_tipi"] or r["active"] != "true":
            continue
        ipi = Decimal(0) if r["ipi_nt"] == "true" or not r["ipi_percent"] else Decimal(r["ipi_percent"])
        rates[r["ncm"]] = NcmRate(r["ncm"], r["description"], Decimal(r["ii_percent"]), ipi)
    return rates


@cache
def comex_templates() -> tuple[ComexRow, ...]:
    """The real Comex Stat rows usable as product templates, in file order.

    Kept: sea, air or road; a known active NCM of the distributor's chapters; a country in the ISO map other
    than Brazil; positive quantity and weight; FOB of at least US$ 200 and a unit price in a sane range.
    """
    rates, known = ncm_rates(), countries()
    kept = []
    for number, r in enumerate(_rows("comexstat_imp_2025_sample.csv", delimiter=";"), start=1):
        if (
            r["CO_VIA"] not in VIA_TO_MODE
            or r["CO_NCM"] not in rates
            or r["CO_NCM"][:2] not in CHAPTERS
            or r["CO_PAIS"] not in known
            or r["CO_PAIS"] == "105"
            or r["CO_UNID"] not in UNIT_CODES
        ):
            continue
        fob, qty, kg = Decimal(r["VL_FOB"]), Decimal(r["QT_ESTAT"]), Decimal(r["KG_LIQUIDO"])
        if fob < MIN_ROW_FOB_USD or qty <= 0 or kg <= 0:
            continue
        if not UNIT_PRICE_RANGE_USD[0] <= fob / qty <= UNIT_PRICE_RANGE_USD[1]:
            continue
        kept.append(
            ComexRow(
                number,
                r["CO_NCM"],
                UNIT_CODES[r["CO_UNID"]],
                known[r["CO_PAIS"]],
                VIA_TO_MODE[r["CO_VIA"]],
                r["CO_URF"],
                r["SG_UF_NCM"],
                fob,
                Decimal(r["VL_FRETE"]),
                Decimal(r["VL_SEGURO"]),
                qty,
                kg,
            )
        )
    return tuple(kept)


@cache
def anbima_holidays() -> frozenset[date]:
    """National (ANBIMA) holidays, 2000-2099."""
    return frozenset(
        date.fromisoformat(r["date"]) for r in _rows("br_holidays_anbima_b3.csv") if r["anbima_holiday"] == "1"
    )


@cache
def ptax_sell_history(currency: str) -> dict[date, Decimal]:
    """Real PTAX closing sell rates (BRL per unit) for USD (SGS 1) or EUR (SGS 21619)."""
    files = {"USD": "usd_brl_ptax_sell_sgs1_daily.csv", "EUR": "eur_brl_ptax_sell_sgs21619_daily.csv"}
    return {date.fromisoformat(r["date"]): Decimal(r["value"]).normalize() for r in _rows(files[currency])}


@cache
def cny_per_usd() -> Decimal:
    """CNY per USD from the real BCB closing file of 2026-07-31 (parity_buy of CNY, type A currency).

    A type-A currency's BRL rate is the USD rate divided by its parity: 5.0773 / 6.7509 = 0.7521, the CNY sell
    rate of that file. Applying this one parity to 2024 USD rates is a SYNTHETIC CNY history.
    """
    with open(REFERENCE_DIR / "bcb_fechamento_20260731_usd_eur_cny.csv", encoding="utf-8") as handle:
        for line in handle:
            fields = line.strip().split(";")
            if fields[3] == "CNY":
                return Decimal(fields[6].replace(",", "."))
    raise LookupError("CNY row missing from the closing file")


@cache
def icms_rates() -> tuple[tuple[str, Decimal, date, date | None, str], ...]:
    """(state, rate %, valid_from, valid_to, legal source) rows of the internal ICMS table."""
    return tuple(
        (
            r["state"],
            Decimal(r["rate_pct"]),
            date.fromisoformat(r["valid_from"]),
            date.fromisoformat(r["valid_to"]) if r["valid_to"] else None,
            r["legal_source"],
        )
        for r in _rows("icms_internal_rates.csv")
    )


@cache
def tax_rules() -> tuple[dict, ...]:
    """The rows of `import_tax_rules.csv` (PIS/COFINS, Siscomex fee tiers, AFRMM, IOF, sales rates)."""
    return tuple(_rows("import_tax_rules.csv"))
