"""Benchmark: BCB partitions -> lake -> raw, against one plain INSERT ... SELECT FROM file() of the same Parquet.

(a) the real code path (ReplayServer on 127.0.0.1, BcbClient, pulls, split_by_day, LocalLake, ensure_raw_table,
    replace_partitions) for PTAX (M currencies) and SGS (the asset's default series), two ways:
      ranged  what the assets do for a backfill: one pull for the whole range, every day written, one replace;
      daily   once per day: pull(day, day), write it, replace its month (raw loads replace whole months),
              timed for the last --daily-days days over the earlier days loaded untimed (0 = every day, timed).
(b) baseline: the Parquet files of the ranged run loaded with a single `INSERT INTO <fresh MergeTree> SELECT *
    FROM file('<glob>', 'Parquet')` per dataset, in the same chDB.
Rows/s = dataset rows / stage seconds; "vs baseline" = (a) rows/s / (b) rows/s. Best of --repeat per stage.

    .venv/bin/python benchmarks/bcb_ingestion.py --years 2 --currencies 3 --repeat 1
"""

import argparse
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
import warnings
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import chdb

from ingestion.bcb import pulls
from ingestion.bcb.client import BcbClient
from ingestion.bcb.series import DEFAULT_SGS_SERIES
from ingestion.common.lake import LocalLake
from ingestion.common.partitioning import days_between, month_end, split_by_day
from ingestion.common.raw_load import ensure_raw_table, replace_partitions
from ingestion.common.warehouse import open_warehouse
from sandboxes.bcb_replay.server import ReplayServer

with warnings.catch_warnings():  # dagster's beta notice for BackfillPolicy
    warnings.simplefilter("ignore")
    from orchestration.defs.bcb import DATASETS, SOURCE

CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "CAD")  # PTAX currencies the replay serves
LAST_YEAR = 2024  # the replay serves 2015-2024 (GBP/JPY/CHF/CAD: 2024 only)
BENCHED = [d for d in DATASETS if d.entity in ("ptax_quotes", "sgs_observations")]


def pull(server: ReplayServer, dataset, currencies: list[str], start: date, end: date):
    """One pull as the asset does it: a fresh client per pull (`api.get_client()`), everything fetched first."""
    with BcbClient(server.sgs_base_url, server.olinda_base_url, server.closing_base_url) as client:
        if dataset.entity == "ptax_quotes":
            return pulls.pull_ptax(client, currencies, start, end)
        return pulls.pull_sgs(client, DEFAULT_SGS_SERIES, start, end)


def run_pipeline(mode, server, wh, lake, currencies, start, end, daily_days) -> tuple[dict[str, float], int]:
    """Seconds per stage and rows of one timed run of `mode`, from empty raw tables and an empty lake.

    daily: the days before the last `daily_days` are first loaded ranged, untimed (the history a daily run meets).
    """
    for dataset in BENCHED:
        wh.command(f"DROP TABLE IF EXISTS raw.{dataset.name} SYNC")
    days = days_between(start, end)
    timed = days[-daily_days:] if daily_days else days
    if mode == "ranged":
        windows = [(start, end, True)]
    else:
        history = [(start, timed[0] - timedelta(days=1), False)] if timed[0] > start else []
        windows = history + [(day, day, True) for day in timed]
    seconds: dict[str, float] = defaultdict(float)
    rows = fetched = 0
    for first, last, timing in windows:
        for dataset in BENCHED:
            t0 = time.perf_counter()
            result = pull(server, dataset, currencies, first, last)
            t1 = time.perf_counter()
            for day, table in split_by_day(result.table, dataset.date_column, first, last).items():
                lake.write_partition(SOURCE, dataset.entity, day, table)
            lake.write_quarantine(SOURCE, dataset.entity, first, result.quarantine)
            t2 = time.perf_counter()
            lake.grant_clickhouse_access(wh.client, embedded=wh.is_embedded)
            ensure_raw_table(wh.client, dataset.name, dataset.schema, dataset.order_by, dataset.low_cardinality)
            reader = lake.clickhouse_reader(SOURCE, dataset.entity)
            # raw loads replace whole months: a daily run re-loads its month to date, as the daily schedule does
            replace_partitions(wh.client, dataset.name, reader, first.replace(day=1), month_end(last))
            t3 = time.perf_counter()
            fetched += result.table.num_rows
            if timing:
                seconds["fetch"] += t1 - t0
                seconds["lake write"] += t2 - t1
                seconds["raw load"] += t3 - t2
                rows += result.table.num_rows
    loaded = sum(int(wh.query_rows(f"SELECT count() FROM raw.{dataset.name}")[0][0]) for dataset in BENCHED)
    if loaded != fetched:  # a correctness check, not a timing one
        raise RuntimeError(f"{mode}: fetched {fetched} rows but raw holds {loaded}")
    return dict(seconds), rows


def run_baseline(wh, lake) -> tuple[float, int]:
    """One plain INSERT ... SELECT * FROM file(glob) per dataset into a fresh MergeTree table (timed: the INSERTs)."""
    wh.command("CREATE DATABASE IF NOT EXISTS bench")
    total, rows = 0.0, 0
    for dataset in BENCHED:
        reader = lake.clickhouse_reader(SOURCE, dataset.entity)  # file('<root>/.../dt=*/part-000.parquet', 'Parquet')
        wh.command(f"DROP TABLE IF EXISTS bench.{dataset.name} SYNC")
        wh.command(
            f"CREATE TABLE bench.{dataset.name} ENGINE = MergeTree ORDER BY tuple() EMPTY AS SELECT * FROM {reader}"
        )
        t0 = time.perf_counter()
        wh.command(f"INSERT INTO bench.{dataset.name} SELECT * FROM {reader}")
        total += time.perf_counter() - t0
        rows += int(wh.query_rows(f"SELECT count() FROM bench.{dataset.name}")[0][0])
    return total, rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--years", type=int, default=2, help="years ending 2024 (1-10; default 2)")
    parser.add_argument("--currencies", type=int, default=3, help=f"first M of {' '.join(CURRENCIES)} (default 3)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each mode; the best is shown (default 1)")
    parser.add_argument("--modes", default="ranged,daily", help="ranged, daily or both (default ranged,daily)")
    parser.add_argument("--daily-days", type=int, default=3, help="days the daily mode times (0 = all; default 3)")
    args = parser.parse_args(argv)
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not (1 <= args.years <= 10 and 1 <= args.currencies <= len(CURRENCIES) and args.repeat >= 1):
        parser.error(f"--years 1..10, --currencies 1..{len(CURRENCIES)}, --repeat >= 1")
    if args.daily_days < 0 or not modes or set(modes) - {"ranged", "daily"}:
        parser.error("--daily-days >= 0; --modes is a comma list of ranged, daily")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the temp folder is removed
    currencies = list(CURRENCIES[: args.currencies])
    start, end = date(LAST_YEAR - args.years + 1, 1, 1), date(LAST_YEAR, 12, 31)

    best: dict[str, dict[str, float]] = {mode: {} for mode in ("baseline", *modes)}
    rows: dict[str, int] = {}
    files = 0
    with tempfile.TemporaryDirectory(prefix="importau-bench-") as tmp, ReplayServer() as server:
        for dataset in BENCHED:  # untimed: the replay server reads its recordings on first use (~1.4 s)
            pull(server, dataset, currencies, start, end)
        with open_warehouse(None, tmp, owner="benchmark") as wh:  # chDB: one data folder per process
            for run in range(args.repeat):
                for mode in ["ranged", *[m for m in modes if m != "ranged"]]:  # the baseline reads a ranged lake
                    lake = LocalLake(Path(tmp) / f"lake-{mode}-{run}")
                    seconds, rows[mode] = run_pipeline(mode, server, wh, lake, currencies, start, end, args.daily_days)
                    seconds["total"] = sum(seconds.values())
                    if mode == "ranged":
                        files = sum(1 for _ in lake.root.rglob("part-000.parquet"))
                        seconds_baseline, rows["baseline"] = run_baseline(wh, lake)
                        if rows["baseline"] != rows["ranged"]:
                            raise RuntimeError(f"baseline loaded {rows['baseline']} rows, not {rows['ranged']}")
                        record(best["baseline"], {"INSERT": seconds_baseline})
                    if mode in best:
                        record(best[mode], seconds)
                    shutil.rmtree(lake.root)

    base_rate = rows["baseline"] / best["baseline"]["INSERT"]
    print(
        f"BCB ingestion benchmark: {args.years} year(s) {start}..{end}, {args.currencies} PTAX currencies "
        f"({' '.join(currencies)}) + {len(DEFAULT_SGS_SERIES)} SGS series; best of {args.repeat}"
    )
    timed = f"the last {args.daily_days} days" if args.daily_days else "every day"
    print(
        f"ranged lake: {files:,} Parquet files; daily: {timed} timed; "
        f"{os.cpu_count()} cores; Python {platform.python_version()}, chDB/ClickHouse {chdb.__version__}\n"
    )
    days = {"baseline": (end - start).days + 1, "ranged": (end - start).days + 1, "daily": args.daily_days or 0}
    days["daily"] = min(days["daily"] or days["ranged"], days["ranged"])
    print(f"{'run':<9}{'stage':<12}{'days':>6}{'rows':>8}{'seconds':>10}{'ms/day':>9}{'rows/s':>10}{'vs baseline':>13}")
    for mode, stages in best.items():
        for stage, took in stages.items():
            rate = rows[mode] / took if took else float("inf")
            per_day = 1000 * took / days[mode]
            print(
                f"{mode:<9}{stage:<12}{days[mode]:>6,}{rows[mode]:>8,}{took:>10.3f}{per_day:>9.1f}{rate:>10,.1f}"
                f"{rate / base_rate:>13.3g}"
            )


def record(best: dict[str, float], seconds: dict[str, float]) -> None:
    for stage, value in seconds.items():
        best[stage] = min(best.get(stage, value), value)


if __name__ == "__main__":
    main()
