"""Benchmark: a customs inbox of n declaration files landed in batches against one file at a time.

Both in this process, on the same files (the demo company's DI XML / DUIMP JSON at --scale), each on a fresh temp
inbox, registry and folder lake: `filedrop.process_many` with the `customs_file_drop` asset's own `ParsedLanding`
(one lake append per entity and batch of `BATCH_FILES`, one registry write per batch), and the same with batches
of one file, which is what the asset did before (it read and rewrote the load day's Parquet object and the
registry's JSON for every file, so a drop cost grew with the square of its files). Reported per n: seconds, files
per second, and the ratio one-at-a-time / batched. No timing is asserted anywhere.

    .venv/bin/python benchmarks/file_drops.py --scale 10 --files 250,1000,2000
"""

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from dbt_marts import loadavg

from ingestion.common.lake import LocalLake
from ingestion.customs import contracts, filedrop
from ingestion.erp import parsed_filedrop
from ingestion.erp.state import FileRegistry
from orchestration.defs.file_drops import ParsedLanding
from sandboxes.demo_company import generate
from sandboxes.demo_company.writers import customs_declaration_files

DAY = date(2024, 12, 31)


def drop(files: dict[str, bytes], batch: int) -> tuple[float, int]:
    """Seconds to land every file through the asset's landing, with batches of `batch` files; the records landed."""
    parsed_filedrop.BATCH_FILES = batch
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        for name, data in files.items():
            (inbox / name).write_bytes(data)
        landing = ParsedLanding(LocalLake(str(Path(tmp) / "lake")), contracts, DAY)
        started = time.perf_counter()
        results = filedrop.process_many(filedrop.scan(inbox), FileRegistry(Path(tmp) / "state"), landing.land)
        seconds = time.perf_counter() - started
    assert all(r.status == filedrop.FileStatus.LOADED for r in results), "every generated file loads"
    return seconds, sum(landing.landed.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--files", default="250,1000,2000", help="inbox sizes (at most the company's declarations)")
    args = parser.parse_args()
    batched = parsed_filedrop.BATCH_FILES
    everything = customs_declaration_files(generate(seed=42, scale=args.scale))
    names = sorted(everything)
    print(f"scale {args.scale}: {len(names)} declaration files; batch {batched}; load average {loadavg()}")
    print("| files | records | one at a time s | batched s | files/s batched | ratio |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in (int(n) for n in args.files.split(",")):
        files = {name: everything[name] for name in names[:count]}
        one_s, one_records = drop(files, 1)
        batch_s, batch_records = drop(files, batched)
        assert one_records == batch_records, "the same records either way"
        print(
            f"| {len(files):,} | {batch_records:,} | {one_s:.2f} | {batch_s:.2f} | {len(files) / batch_s:,.0f} | "
            f"{one_s / batch_s:.1f}x |"
        )
    print(f"load average at the end {loadavg()}")


if __name__ == "__main__":
    main()
