"""Load the four raw BCB tables of a chDB warehouse with real BCB values, for `dbt build` in tests.

Run as a script in its own process (chDB hosts one engine per process, and the dbt subprocess that follows
must be able to open the same path): `python tests/dbt/raw_fixtures.py <chdb path>`.

Where the values come from (all under /work/shared/reference/bacen; see its README.md and history/SOURCES.md):
- SGS observations: the 2015-2024 daily histories (SGS 1, 21619, 11, 12, 432) and IPCA 2024 (SGS 433).
- PTAX bulletins: the recorded Olinda responses as they are (EUR 2018-03-05 with all five bulletins;
  USD/EUR/GBP 2021-12-24; USD closing 2024-01-02..05). Every other USD and EUR business day gets one closing
  bulletin built from the SGS selling rate (SGS 1 / 21619 are the PTAX closing sell). What SGS does not carry
  is filled in and never asserted on: buy = sell, EUR parities = 0, quoted_at = 13:00 Brasília (16:00 UTC).
- Closing file: the real 2026-07-31 file, all 156 currencies (CNY included).
- Focus: the five recorded Olinda Expectativas responses.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

REFERENCE = Path("/work/shared/reference/bacen")
HISTORY = REFERENCE / "history"
SAMPLES = REFERENCE / "samples"
LOADED_AT = datetime(2025, 1, 2, 12, 0, tzinfo=UTC)

_META = [("_partition_date", "Date"), ("_loaded_at", "DateTime64(3, 'UTC')"), ("_source_file", "String")]
_RATE = "Decimal(38, 15)"
_NULLABLE_RATE = "Nullable(Decimal(38, 15))"
TABLES = {  # docs/architecture.md shapes; (columns, order by)
    "bcb__sgs_observations": (
        [("series_code", "Int32"), ("reference_date", "Date"), ("value", _RATE)],
        "series_code, reference_date",
    ),
    "bcb__ptax_quotes": (
        [
            ("currency", "LowCardinality(String)"),
            ("quote_date", "Date"),
            ("quoted_at", "DateTime64(3, 'UTC')"),
            ("bulletin_type", "LowCardinality(String)"),
            ("is_closing", "Bool"),
            ("buy", _RATE),
            ("sell", _RATE),
            ("parity_buy", _RATE),
            ("parity_sell", _RATE),
        ],
        "currency, quote_date, quoted_at, bulletin_type",
    ),
    "bcb__closing_rates": (
        [
            ("quote_date", "Date"),
            ("bcb_currency_code", "LowCardinality(String)"),
            ("currency_type", "LowCardinality(String)"),
            ("currency", "LowCardinality(String)"),
            ("buy", _RATE),
            ("sell", _RATE),
            ("parity_buy", _RATE),
            ("parity_sell", _RATE),
        ],
        "currency, quote_date",
    ),
    "bcb__focus_expectations": (
        [
            ("entity_set", "LowCardinality(String)"),
            ("indicator", "LowCardinality(String)"),
            ("indicator_detail", "Nullable(String)"),
            ("computed_on", "Date"),
            ("reference_period", "String"),
            ("calc_basis", "Nullable(Int32)"),
            ("calc_type", "Nullable(String)"),
            ("smoothed", "Nullable(String)"),
            ("mean", _NULLABLE_RATE),
            ("median", _NULLABLE_RATE),
            ("std_dev", _NULLABLE_RATE),
            ("minimum", _NULLABLE_RATE),
            ("maximum", _NULLABLE_RATE),
            ("respondents", "Nullable(Int32)"),
        ],
        "entity_set, indicator, computed_on, reference_period",
    ),
}
HISTORY_FILES = {
    1: "usd_brl_ptax_sell_sgs1_daily.csv",
    21619: "eur_brl_ptax_sell_sgs21619_daily.csv",
    11: "selic_daily_pct_sgs11.csv",
    12: "cdi_daily_pct_sgs12.csv",
    432: "selic_target_pct_sgs432.csv",
}


def _dec(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _read_history(name: str) -> list[tuple[date, Decimal]]:
    with (HISTORY / name).open() as handle:
        return [(date.fromisoformat(row["date"]), Decimal(row["value"])) for row in csv.DictReader(handle)]


def _meta(day: date, source_file: str) -> list:
    return [day, LOADED_AT, source_file]


def sgs_rows() -> list[list]:
    rows = []
    for code, name in HISTORY_FILES.items():
        rows += [[code, day, value, *_meta(day, name)] for day, value in _read_history(name)]
    ipca = SAMPLES / "sgs_0433_ipca_monthly_2024-01_2024-12.json"
    for item in json.loads(ipca.read_text()):
        day = datetime.strptime(item["data"], "%d/%m/%Y").date()
        rows.append([433, day, Decimal(item["valor"]), *_meta(day, ipca.name)])
    return rows


def _brasilia_to_utc(text: str) -> datetime:
    # Olinda timestamps are Brasília time, UTC-3 (no daylight saving on the recorded dates after 2019; the
    # 2018-03-05 sample falls outside the 2017/18 daylight-saving period, which ended on 2018-02-18).
    return datetime.fromisoformat(text).replace(tzinfo=UTC) + timedelta(hours=3)


def _bulletin_row(currency: str, item: dict, source_file: str) -> list:
    quoted_at = _brasilia_to_utc(item["dataHoraCotacao"])
    day = datetime.fromisoformat(item["dataHoraCotacao"]).date()
    bulletin = item["tipoBoletim"]
    return [
        currency,
        day,
        quoted_at,
        bulletin,
        bulletin.startswith("Fechamento"),
        _dec(item.get("cotacaoCompra", item["cotacaoVenda"])),
        _dec(item["cotacaoVenda"]),
        _dec(item.get("paridadeCompra", 1)),
        _dec(item.get("paridadeVenda", 1)),
        *_meta(day, source_file),
    ]


def ptax_rows() -> list[list]:
    rows = []
    eur_2018 = SAMPLES / "olinda_ptax_CotacaoMoedaDia_EUR_2018-03-05_all_bulletins.json"
    rows += [_bulletin_row("EUR", item, eur_2018.name) for item in json.loads(eur_2018.read_text())["value"]]
    short_day = SAMPLES / "olinda_ptax_CotacaoMoedaPeriodo_USD_EUR_GBP_2021-12-24_RECONSTRUCTED.json"
    for currency, body in json.loads(short_day.read_text()).items():
        if currency.startswith("_"):
            continue
        rows += [_bulletin_row(currency, item, short_day.name) for item in body["value"]]
    usd_2024 = SAMPLES / "olinda_ptax_CotacaoMoedaPeriodo_USD_fechamento_select_2024-01-02_2024-01-05.json"
    for item in json.loads(usd_2024.read_text())["value"]:
        rows.append(_bulletin_row("USD", {**item, "tipoBoletim": "Fechamento"}, usd_2024.name))
    recorded = {(row[0], row[1]) for row in rows}
    for currency, code in (("USD", 1), ("EUR", 21619)):
        for day, sell in _read_history(HISTORY_FILES[code]):
            if (currency, day) in recorded:
                continue
            parity = Decimal(1) if currency == "USD" else Decimal(0)
            quoted_at = datetime(day.year, day.month, day.day, 16, 0, tzinfo=UTC)
            rows.append(
                [
                    currency,
                    day,
                    quoted_at,
                    "Fechamento",
                    True,
                    sell,
                    sell,
                    parity,
                    parity,
                    *_meta(day, f"derived-from-{HISTORY_FILES[code]}"),
                ]
            )
    return rows


def closing_rows() -> list[list]:
    sample = SAMPLES / "bcb_fechamento_all_currencies_20260731.csv"
    rows = []
    for line in sample.read_text().splitlines():
        if not line.strip():
            continue
        day, code, kind, symbol, buy, sell, parity_buy, parity_sell = line.strip().split(";")
        quote_date = datetime.strptime(day, "%d/%m/%Y").date()
        values = [Decimal(v.replace(",", ".")) for v in (buy, sell, parity_buy, parity_sell)]
        rows.append([quote_date, code, kind, symbol, *values, *_meta(quote_date, sample.name)])
    return rows


STATISTICS = ("Media", "Mediana", "DesvioPadrao", "Minimo", "Maximo")
FOCUS_FIELDS = {  # entity set -> (reference-period field, lower-case names)
    "ExpectativasMercadoAnuais": ("DataReferencia", False),
    "ExpectativasMercadoInflacao12Meses": (None, False),
    "ExpectativasMercadoSelic": ("Reuniao", False),
    "ExpectativasMercadoTop5Anuais": ("DataReferencia", False),
    "ExpectativasMercadoTop5Selic": ("reuniao", True),
}


def focus_rows() -> list[list]:
    rows = []
    for sample in sorted(SAMPLES.glob("olinda_focus_*.json")):
        entity_set = sample.name.split("_")[2]
        period_field, lower = FOCUS_FIELDS[entity_set]

        def field(item, name, lower=lower):
            return item.get(name[0].lower() + name[1:] if lower else name)

        for item in json.loads(sample.read_text(), parse_float=Decimal)["value"]:
            day = date.fromisoformat(item["Data"])
            period = item[period_field] if period_field else "12 meses"
            rows.append(
                [
                    entity_set,
                    field(item, "Indicador"),
                    item.get("IndicadorDetalhe"),
                    day,
                    period,
                    item.get("baseCalculo"),
                    item.get("tipoCalculo"),
                    item.get("Suavizada"),
                    *(_dec(field(item, name)) for name in STATISTICS),
                    item.get("numeroRespondentes"),
                    *_meta(day, sample.name),
                ]
            )
    return rows


def _empty_open_finance_tables(client) -> None:
    """The raw Open Finance tables, empty, so the staging/open_finance views build (their data is tested in
    tests/dbt/test_open_finance_staging.py)."""
    from ingestion.common.raw_load import ensure_raw_table
    from orchestration.defs.open_finance.ingest import DATASETS

    for dataset in DATASETS:
        client.command(f"DROP TABLE IF EXISTS raw.{dataset.name}")
        ensure_raw_table(client, dataset.name, dataset.schema, list(dataset.key), list(dataset.low_cardinality))


def _empty_erp_tables(client) -> None:
    """The raw ERP tables, empty, so the staging/erp views build (their data: tests/dbt/test_erp_staging.py)."""
    from tests.dbt.erp_raw_fixtures import create_erp_raw_tables

    create_erp_raw_tables(client)


def _empty_customs_tables(client) -> None:
    """The raw customs declaration tables, empty, so the staging/customs views build."""
    from tests.dbt.customs_raw_fixtures import create_customs_raw_tables

    create_customs_raw_tables(client)


def _empty_bank_statement_tables(client) -> None:
    """The raw bank statement tables, empty, so the staging/bank_statement views build (their data:
    tests/dbt/test_bank_statement_staging.py)."""
    from tests.dbt.bank_statement_raw_fixtures import create_bank_statement_raw_tables

    create_bank_statement_raw_tables(client)


def load(path: str) -> dict[str, int]:
    import clickhouse_connect

    client = clickhouse_connect.get_client(interface="chdb", path=path)
    try:
        client.command("CREATE DATABASE IF NOT EXISTS raw")
        counts = {}
        for table, rows in (
            ("bcb__sgs_observations", sgs_rows()),
            ("bcb__ptax_quotes", ptax_rows()),
            ("bcb__closing_rates", closing_rows()),
            ("bcb__focus_expectations", focus_rows()),
        ):
            columns, order_by = TABLES[table]
            columns = columns + _META
            ddl = ", ".join(f"{name} {kind}" for name, kind in columns)
            client.command(f"DROP TABLE IF EXISTS raw.{table}")
            client.command(f"CREATE TABLE raw.{table} ({ddl}) ENGINE = MergeTree ORDER BY ({order_by})")
            client.insert(f"raw.{table}", rows, column_names=[name for name, _ in columns])
            counts[table] = client.command(f"SELECT count() FROM raw.{table}")
        _empty_open_finance_tables(client)
        _empty_erp_tables(client)
        _empty_customs_tables(client)
        _empty_bank_statement_tables(client)
        return counts
    finally:
        client.close()


if __name__ == "__main__":
    print(json.dumps(load(sys.argv[1])))
