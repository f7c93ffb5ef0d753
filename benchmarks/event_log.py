"""Benchmark: Dagster's SQLite event log against the local instance's (connections kept open between events).

Both in this process, one after the other, each on a fresh Dagster home: the same --runs runs of the same job (one
partitioned asset per --assets, each with an asset check, so every event kind the demo writes: run and step events,
materializations mirrored into the index, check evaluations), through `dg.materialize`. Reported: seconds, events
written (run files and index), ms per event, and the ratio stock / kept. No timing is asserted anywhere.

    .venv/bin/python benchmarks/event_log.py --runs 10 --assets 40
"""

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

import dagster as dg
from dbt_marts import loadavg

from orchestration.commands.local_instance import install_local_instance


def definitions(assets: int) -> list:
    days = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")
    built = []
    for number in range(assets):

        @dg.asset(name=f"asset_{number}", partitions_def=days)
        def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"row_count": 100, "partition": context.partition_key})

        @dg.asset_check(asset=_asset, name="rows")
        def _check() -> dg.AssetCheckResult:
            return dg.AssetCheckResult(passed=True, metadata={"rows": 100})

        built += [_asset, _check]
    return built


def events_in(home: Path) -> tuple[int, int]:
    runs = home / "history" / "runs"
    count = 0
    for shard in runs.glob("*.db"):
        with sqlite3.connect(shard) as db:
            count += db.execute("SELECT count(*) FROM event_logs").fetchone()[0]
    with sqlite3.connect(runs / "index.db") as db:
        index = db.execute("SELECT count(*) FROM event_logs").fetchone()[0]
    return count - index, index


def measure(home: Path, assets: list, runs: int) -> dict:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        started = time.perf_counter()
        for run in range(runs):
            day = f"2024-01-{run + 1:02d}"
            assert dg.materialize(assets, instance=instance, partition_key=day).success
        seconds = time.perf_counter() - started
        storage = type(instance.event_log_storage).__name__
    run_events, index_events = events_in(home)
    return {
        "storage": storage,
        "seconds": seconds,
        "run_events": run_events,
        "index_events": index_events,
        "ms_per_event": 1000 * seconds / (run_events + index_events),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--assets", type=int, default=40, help="partitioned assets per run, each with a check")
    args = parser.parse_args()
    assets = definitions(args.assets)
    print(f"load average before: {loadavg()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        stock = Path(tmp, "stock")
        stock.mkdir()
        (stock / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        results.append(measure(stock, assets, args.runs))
        results.append(measure(install_local_instance(Path(tmp, "kept")).parent, assets, args.runs))
    print(f"load average after: {loadavg()}")
    print(f"{'storage':<40} {'seconds':>8} {'run events':>11} {'index events':>13} {'ms/event':>9}")
    for r in results:
        print(
            f"{r['storage']:<40} {r['seconds']:>8.1f} {r['run_events']:>11,} {r['index_events']:>13,} "
            f"{r['ms_per_event']:>9.2f}"
        )
    print(f"stock / kept: {results[0]['seconds'] / results[1]['seconds']:.2f}x")


if __name__ == "__main__":
    main()
