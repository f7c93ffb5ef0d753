"""`importau demo`: the main job on the embedded default, offline, for a default date range.

It starts the local stand-ins (the ERP demo company's file drops, the BCB replay server with real recorded
responses, the Open Finance sandbox bank), parses the dbt project when a dbt file changed since the last parse,
runs one Dagster run per source over the range's monthly partitions and then the transformations, on the local
instance (data/dagster_home), then prints what landed and how to look at it.

`--bank-source open_finance|pluggy|statements` chooses which ingest job feeds the bank data the marts read
(`orchestration/commands/bank_source.py`; FX operations come from Open Finance whatever the choice, credit cards
follow it).

The terminal gets one line per run and per step (`orchestration/commands/progress.py`); every Dagster event
(DEBUG included), dbt's own output and anything else the runs print go to `<data dir>/logs/demo-<time>.log`,
whose path it prints at the start and at the end.
"""

import argparse
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from orchestration.commands.bank_source import (
    BANK_SOURCES,
    BANK_SOURCES_ENV,
    DEFAULT_BANK_SOURCE,
    BankSource,
    choose,
)
from orchestration.constants import DEMO_END_DATE, DEMO_MARKET_HISTORY_START_DATE, DEMO_START_DATE

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run the main job on the embedded default (offline)")
    parser.add_argument("--start", default=DEMO_START_DATE, help="first partition (YYYY-MM-DD)")
    parser.add_argument("--end", default=DEMO_END_DATE, help="last partition (YYYY-MM-DD)")
    parser.add_argument(
        "--market-history-start",
        default=DEMO_MARKET_HISTORY_START_DATE,
        help="first BCB partition, when earlier than --start (the FX forecast needs years of PTAX)",
    )
    parser.add_argument(
        "--no-ml",
        action="store_true",
        help="skip ML training and scoring (a short range has too little history for the backtests)",
    )
    parser.add_argument("--live", action="store_true", help="call the live BCB APIs instead of the replay server")
    parser.add_argument("--seed", type=int, default=42, help="the demo company's seed (default 42)")
    parser.add_argument(
        "--bank-source",
        choices=[source.name for source in BANK_SOURCES],
        default=DEFAULT_BANK_SOURCE,
        help="which source feeds the bank data the marts read (default open_finance; FX operations always come "
        "from Open Finance)",
    )
    parser.add_argument(
        "--messiness",
        choices=("clean", "realistic", "hostile"),
        default="realistic",
        help="planted real-world mess of the demo company (default realistic); score it with `importau evaluate`",
    )
    parser.add_argument(
        "--bank-statements",
        default="",
        metavar="FORMATS",
        help="also drop the demo company's bank statements (ofx, cnab240 or 'ofx,cnab240') into the bank statements "
        "inbox, which ingest_bank_statements loads",
    )
    parser.set_defaults(handler=run)


def job_named(name: str):
    from orchestration.definitions import defs

    return defs.resolve_job_def(name)


def run_job(name: str, tags: dict[str, str]) -> tuple[bool, str]:
    """Run one job on the local instance and wait for it; returns (success, run id).

    Inside a `progress_session` the run logs through the `importau_progress` logger (progress lines on the
    terminal, every event in the session's log file) instead of Dagster's console logger."""
    import dagster as dg

    from orchestration.commands.progress import append_run_creation_events, progress_run_config, session_log_file

    log_file = session_log_file()
    job_named(name)  # the definitions, loaded once per process (execute_job's reconstructable job reads them again)
    freeze_long_lived()  # before the run's own objects (its instance) exist
    instance = dg.DagsterInstance.get()
    with (
        sigterm_kept(),
        dg.execute_job(
            dg.build_reconstructable_job("orchestration.commands.demo", "job_named", reconstructable_args=(name,)),
            instance=instance,
            tags=tags,
            # The code location's executor runs the steps in order in this process: no per-step interpreter
            # start-up, and steps never overlap on the embedded warehouse (dbt runs in its own subprocess).
            run_config=progress_run_config(log_file) if log_file else {},
        ) as result,
    ):
        if log_file:
            append_run_creation_events(instance, result.run_id, log_file)
        success, run_id = result.success, result.run_id
    release_memory()
    return success, run_id


@contextmanager
def sigterm_kept() -> Iterator[None]:
    """SIGTERM's disposition as it was before the block, put back after it (main thread only).

    Dagster's in-process execution leaves SIGTERM mapped to whatever SIGINT's handler is when a run ends
    (`dagster._utils.interrupts.setup_interrupt_handlers`, "for k8s"). In a command started as a background job,
    SIGINT is ignored, so after its first run the command ignored SIGTERM (a supervisor could no longer stop it),
    and so did the processes it started between runs (an ignored signal is inherited across exec). Put back, the
    handler is the command's own: inside `sandbox_banks` (`importau demo`), SIGTERM unwinds the `with` blocks."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if before is not None:
            signal.signal(signal.SIGTERM, before)


def freeze_long_lived() -> None:
    """Once per process, with the definitions loaded: Python's cyclic collector stops scanning what exists now (the
    imports, the definitions, the dbt manifest: about 480,000 objects). Without it, the full collection of
    `release_memory` after each run scanned them all: 2.5 s of samples in a daily's six runs at load 1-2, 11.5 s
    under the test suite's load (issue 10); an automatic full collection during a run scans them too. What is
    frozen is never collected as a cycle; these objects live as long as the process anyway."""
    import gc

    global _FROZEN
    if not _FROZEN:
        gc.collect()  # nothing already garbage is frozen with them
        gc.freeze()
        _FROZEN = True


_FROZEN = False


def release_memory() -> None:
    """Give the memory a finished run freed back to the system: the runs of a demo share this process, and what one
    run freed stayed resident while the next one's dbt process (and its embedded warehouse) grew beside it (at
    scale 30 the driver kept about 1.3 GB after the Open Finance pull). Python's collector, then pyarrow's pool, then
    glibc's free lists (`malloc_trim`; a no-op elsewhere)."""
    import ctypes
    import ctypes.util
    import gc

    import pyarrow as pa

    gc.collect()
    pa.default_memory_pool().release_unused()
    name = ctypes.util.find_library("c")
    libc = ctypes.CDLL(name) if name else None
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def run_main_jobs(
    start: str,
    end: str,
    market_history_start: str | None = None,
    ml: bool = True,
    bank_source: BankSource | None = None,
) -> tuple[bool, list[str]]:
    """Each source's job for partitions start..end (one run each; BCB from `market_history_start` when that is
    earlier), then the transformations. A `bank_source` whose job is not on the main path (Pluggy's) runs too."""
    from orchestration.commands.progress import echo
    from orchestration.defs.jobs import SOURCE_JOBS
    from orchestration.partitions import month_key  # partitions are months: a range covers whole months

    jobs = list(SOURCE_JOBS)
    if bank_source and bank_source.job not in dict(jobs):  # an optional source's job (Pluggy): run it when chosen
        jobs.append((bank_source.job, bank_source.dbt_source))
    run_ids = []
    for name, group in jobs:
        if not job_named(name).asset_layer.executable_asset_keys:
            continue
        first = min(start, market_history_start) if group == "bcb" and market_history_start else start
        echo(f"  {name} {first}..{end}")
        success, run_id = run_job(name, {RANGE_START_TAG: month_key(first), RANGE_END_TAG: month_key(end)})
        run_ids.append(run_id)
        if not success:
            return False, run_ids
    transform = "transform" if ml else "transform_without_ml"
    echo(f"  {transform}")
    success, run_id = run_job(transform, {})
    return success, [*run_ids, run_id]


def run(args: argparse.Namespace) -> int:
    from orchestration.commands.demo_services import demo_services_env
    from orchestration.commands.history_range import use_range
    from orchestration.commands.local_instance import prepare_local_instance
    from orchestration.commands.progress import echo, format_duration, new_log_file, progress_session
    from orchestration.commands.summary import print_summary
    from orchestration.dbt_manifest import refresh_manifest

    started = time.monotonic()
    home = prepare_local_instance()
    use_range(args.start, args.market_history_start)  # the partitions start where the demo's data does
    log_file = new_log_file(os.environ["IMPORTAU_DATA_DIR"], "demo")
    print(f"Dagster instance: {home}")
    print(f"Full log (every Dagster event, dbt's output): {log_file}", flush=True)
    # From here on the terminal gets progress lines only; everything else goes to the log file.
    # the ERP stand-in (erp_demo.py) generates the company of this seed and messiness
    os.environ["IMPORTAU_DEMO_SEED"] = str(args.seed)
    os.environ["IMPORTAU_DEMO_MESSINESS"] = args.messiness
    # statement files as the bank source: the demo company's statements in both formats, unless --bank-statements
    os.environ["IMPORTAU_DEMO_BANK_STATEMENTS"] = args.bank_statements or (
        "ofx,cnab240" if args.bank_source == "statements" else ""
    )
    # the statements of the demo's months only, as Open Finance pulls the demo's months only (erp_demo.py)
    os.environ["IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN"] = f"{args.start}..{args.end}"
    with progress_session(log_file):
        with demo_services_env(live=args.live, bank_source=args.bank_source) as service_env:
            os.environ.update(service_env)
            for name, value in sorted(service_env.items()):
                if name.endswith("_URL"):
                    echo(f"local stand-in: {name}={value}")
            parse_started = time.monotonic()
            _, parsed = refresh_manifest()  # only when a dbt file changed since the last parse
            took = format_duration(time.monotonic() - parse_started)
            echo(f"dbt project parsed in {took}" if parsed else "dbt manifest is current (no parse)")
            # the definitions load here, after the range and the stand-ins' environment are set
            from orchestration.definitions import defs

            try:
                bank_source = choose(args.bank_source, (job.name for job in defs.resolve_all_job_defs()))
            except ValueError as error:
                echo(f"importau demo: {error}")
                return 2
            # dbt's stg_bank__* union reads the chosen source alone (macros/bank_sources.sql)
            os.environ[BANK_SOURCES_ENV] = bank_source.dbt_source
            echo(f"bank data from {bank_source.name} ({bank_source.description}); FX operations from Open Finance")
            echo(f"Materializing every asset for {args.start}..{args.end}: one run per source, then dbt ...")
            success, run_ids = run_main_jobs(
                args.start, args.end, args.market_history_start, ml=not args.no_ml, bank_source=bank_source
            )
        took = format_duration(time.monotonic() - started)
        short_ids = ", ".join(run_id[:8] for run_id in run_ids)
        if success:
            echo(f"Every run succeeded in {took} (runs {short_ids}).")
            print_summary(echo, log_file)
    if not success:
        print(f"FAILURE after {took} (runs {short_ids}): the error is above.")
        print(f"Every event of the runs: {log_file}")
        print(f"Or the runs themselves: DAGSTER_HOME={home} .venv/bin/dagster run list, or the UI (importau dev).")
        return 1
    return 0
