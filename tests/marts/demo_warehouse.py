"""Load a chDB warehouse with the demo company (BCB + ERP + Open Finance raw), for the mart tests and benchmarks.

Run as a script in its own process (chDB hosts one engine folder per process, and the dbt subprocess that follows
must open the same folder): `python tests/marts/demo_warehouse.py <data_dir> [--seed 42] [--scale 1.0]
[--messiness realistic]`.
It prints JSON with the raw row counts and what each step took.

Where each source comes from, and why this is not the full `importau demo` (which takes minutes per year):
- BCB: `tests/dbt/raw_fixtures.py`, real USD/EUR PTAX 2015-2024 from the SGS history (the same values the demo
  generator prices with) and the recorded Focus answers, plus the replay server's CNY closing rates for 2024
  (`data/bcb_replay/closing/extra/CNY.csv`, derived the same way as the generator's CNY).
- ERP: the demo company's 13 entities, each row through `ingestion.erp.contracts.validate`, inserted as one raw
  load (as `tests/dbt/erp_raw_fixtures.py` does), so staging sees exactly what the generator made.
- Customs: the demo company's declarations as the broker's DI XML / DUIMP JSON files, read back through the
  parsers and the customs contract (`tests/dbt/customs_raw_fixtures.py`), one raw load.
- Open Finance: the REAL pull. The bank truth is served by the mTLS sandbox institutions (one per bank, as in
  the demo) and the `ingest_open_finance` job runs in-process over the whole range (monthly chunks), writing the
  lake under `<data_dir>/lake` and the raw tables, exactly as production would.
The ground truth is written to `<data_dir>/demo/ground_truth.json`, where the demo puts it (evaluation only).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from ingestion.bcb import schemas as bcb_schemas  # noqa: E402  (after the sys.path line, run as a script)

LOADED_AT = datetime(2025, 1, 2, 6, 0, tzinfo=UTC)
CNY_FILE = REPO / "data" / "bcb_replay" / "closing" / "extra" / "CNY.csv"
# the raw closing-rates table: the BCB dataset's columns plus the raw-load metadata
CLOSING_COLUMNS = [*bcb_schemas.CLOSING_RATES.names, "_partition_date", "_loaded_at", "_source_file"]


def cny_closing_rows(start: date, end: date) -> list[list]:
    rows = []
    with CNY_FILE.open() as handle:
        for line in csv.DictReader(handle):
            day = date.fromisoformat(line["date"])
            if start <= day <= end:
                values = [Decimal(line[k]) for k in ("buy", "sell", "parity_buy", "parity_sell")]
                rows.append([day, "795", "A", "CNY", *values, day, LOADED_AT, CNY_FILE.name])
    return rows


def load_erp(client, company) -> dict[str, int]:
    from ingestion.erp import contracts
    from tests.dbt.erp_raw_fixtures import raw_key

    counts = {}
    for entity in contracts.ENTITY_NAMES:
        table, quarantine = contracts.validate(entity, company.erp[entity].to_pylist())
        if quarantine:
            raise ValueError(f"demo company: {entity} has invalid rows: {[q.reason for q in quarantine][:3]}")
        rows = table.to_pylist()
        names = contracts.schema(entity).names
        records = []
        for row in rows:
            day = row["updated_at"].date()
            source_file = f"/lake/erp/{entity}/dt={day}/part-000.parquet"
            records.append([row[name] for name in names] + [LOADED_AT, day, LOADED_AT, source_file])
        if records:
            columns = [*names, contracts.ARRIVED_AT, "_partition_date", "_loaded_at", "_source_file"]
            client.insert(f"raw.{raw_key(entity)}", records, column_names=columns)
        counts[f"erp__{entity}"] = len(records)
    return counts


def pull_open_finance(data_dir: Path, start: date, end: date) -> None:
    """The real Open Finance pull over mTLS from sandbox institutions serving the demo's bank truth."""
    import dagster as dg

    from orchestration.commands.sandbox_bank import sandbox_bank_env
    from orchestration.definitions import defs

    os.environ["DEMO_BANK_TRUTH_DIR"] = str(data_dir / "demo" / "bank")
    os.environ["OPEN_FINANCE_SANDBOX_TODAY"] = end.isoformat()
    with sandbox_bank_env() as env:
        os.environ.update(env)
        result = defs.resolve_job_def("ingest_open_finance").execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags={
                # partitions are months
                "dagster/asset_partition_range_start": start.replace(day=1).isoformat(),
                "dagster/asset_partition_range_end": end.replace(day=1).isoformat(),
            },
        )
        if not result.success:
            raise RuntimeError("the Open Finance pull of the demo company failed")


def load(data_dir: Path, seed: int, scale: float, messiness: str = "realistic") -> dict:
    import clickhouse_connect

    from sandboxes.demo_company import generate
    from sandboxes.demo_company.messiness import apply
    from sandboxes.demo_company.writers import write_bank_truth, write_ground_truth
    from tests.dbt import raw_fixtures
    from tests.dbt.customs_raw_fixtures import load_declarations

    timings, started = {}, time.monotonic()
    company = apply(generate(seed=seed, scale=scale), messiness)
    write_bank_truth(company, data_dir / "demo" / "bank")
    write_ground_truth(company, data_dir / "demo" / "ground_truth.json")
    timings["generate_s"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    warehouse = data_dir / "warehouse"
    counts = raw_fixtures.load(str(warehouse))  # BCB, plus empty ERP and Open Finance raw tables
    client = clickhouse_connect.get_client(interface="chdb", path=str(warehouse))
    try:
        cny = cny_closing_rows(company.start, company.end)
        client.insert("raw.bcb__closing_rates", cny, column_names=CLOSING_COLUMNS)
        counts["bcb__closing_rates_cny"] = len(cny)
        counts.update(load_erp(client, company))
        counts.update(load_declarations(client, company, LOADED_AT))
    finally:
        client.close()
    timings["bcb_erp_s"] = round(time.monotonic() - started, 1)

    started = time.monotonic()
    pull_open_finance(data_dir, company.start, company.end)
    timings["open_finance_s"] = round(time.monotonic() - started, 1)
    return {"counts": counts, "timings": timings, "seed": seed, "scale": scale, "messiness": messiness}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--messiness", default="realistic", choices=("clean", "realistic", "hostile"))
    args = parser.parse_args()
    os.environ["IMPORTAU_DATA_DIR"] = str(args.data_dir)
    print(json.dumps(load(args.data_dir, args.seed, args.scale, args.messiness)))


if __name__ == "__main__":
    main()
