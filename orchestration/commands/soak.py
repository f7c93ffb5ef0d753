"""`importau soak --days N`: N consecutive business days through the scheduled path, one fault a day, checked
against a clean run of the same days.

1. base: the demo company up to the day before the first soak day, as `importau demo` builds it (each source's
   ranged run, then `transform` with ML training, so that scoring has a champion), on its own data folder.
2. clean: a copy of the base; for each day D (the business clock IMPORTAU_TODAY=D; the BCB replay serves nothing
   after D; the sandbox bank's calendar at D; the ERP drops the rows it changed on D): `ingest_bcb`,
   `ingest_open_finance`, `ingest_erp` for the month partition holding D (`dagster/partition`, as the daily
   schedules request it), then `transform_daily`; then checksums of every `marts` table.
3. soak: another copy of the base, the same days with one fault a day from a fixed list (soak_faults.ORDER), on
   a Dagster instance like the deployed one (the deployed dagster.yaml on a throwaway PostgreSQL database with
   --postgres-dsn; else the local SQLite instance), each run in a worker process that a fault may SIGKILL.
Each fault's recovery time is from its injection to the end of the day's `transform_daily` whose marts equal
the clean run's of that day. The report (terminal table + JSON) lists each fault, how it surfaced and how long
recovery took, and compares every mart table (rows, XOR and sum of row hashes) at the end. Exit 1 if a fault
was not recovered, its own check failed, or any mart differs from the clean run.
"""

import argparse
import csv
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from orchestration.dbt_manifest import DBT_PROJECT_DIR

DEFAULT_START = "2024-11-01"  # the demo company's last two months: BCB recordings and ERP exports up to 2024-12-31
MARKET_HISTORY_START = "2022-01-01"  # as `importau demo`: the FX forecast needs years of PTAX
ERP_START = "2024-01-01"
PARTITION_TAG = "dagster/partition"
# Stamps of when a row was loaded or arrived, and when a score was computed: they differ between two runs of the
# same days by construction. Everything else must be equal.
EXCLUDED_COLUMNS = ["_loaded_at", "loaded_at", "_arrived_at", "arrived_at", "scored_at"]
DATABASES = ["marts"]
HOLIDAYS = DBT_PROJECT_DIR / "seeds" / "br_holidays_anbima_b3.csv"


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    from orchestration.commands.soak_faults import ORDER

    parser = subparsers.add_parser(
        "soak",
        help="replay N business days through the scheduled path with one fault a day; compare with a clean run",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--days", type=int, default=30, help="business days to replay (default 30)")
    parser.add_argument("--start", default=DEFAULT_START, help=f"first day, YYYY-MM-DD (default {DEFAULT_START})")
    parser.add_argument(
        "--faults",
        default=",".join(ORDER),
        help=f"the faults in their order, one per day, cycling; `none` = a day without (default {','.join(ORDER)})",
    )
    parser.add_argument(
        "--postgres-dsn",
        default=os.environ.get("IMPORTAU_SOAK_POSTGRES_DSN", ""),
        help="a PostgreSQL server where throwaway databases may be created: the soak runs on the deployed "
        "dagster.yaml there (env IMPORTAU_SOAK_POSTGRES_DSN); empty: the local SQLite instance",
    )
    parser.add_argument(
        "--work",
        help="working folder, kept; a base built there for the same first day is reused "
        "(default: a new one under IMPORTAU_DATA_DIR/soak, removed afterwards)",
    )
    parser.add_argument("--json", help="report file (default: IMPORTAU_DATA_DIR/soak/report-<time>.json)")
    parser.add_argument("--keep", action="store_true", help="keep the data folders and databases afterwards")
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="run the clean days and the faulted days at the same time (two workers): shorter wall time, but "
        "each day and each recovery takes longer than alone",
    )
    parser.set_defaults(handler=run)


def business_days(start: date, count: int) -> list[date]:
    """`count` weekdays from `start` on, without the ANBIMA holidays of the dbt seed."""
    with open(HOLIDAYS, newline="") as handle:
        holidays = {row["date"] for row in csv.DictReader(handle) if row["anbima_holiday"] == "1"}
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5 and day.isoformat() not in holidays:
            days.append(day)
        day += timedelta(days=1)
    return days


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def say(text: str) -> None:
    print(text, flush=True)


def build_base(work: Path, company, truth: Path, day: date) -> tuple[Path, list[str]]:
    """The demo up to `day` (sources ranged from their first month, then `transform` with ML): its data folder,
    and the models whose challenger had to be made champion by hand.

    A fresh instance has no champion, and the promotion gate refuses a challenger that does not beat the baseline
    or has no metric. `cash_flow` and `fx_forecast` then fall back on their baselines (ml_assets/common/
    baseline.py); a model without one has no champion: its blocking check fails that `transform`, and every daily
    scoring would fail for want of a champion. On the ten months before November 2024 that is `transaction_anomaly`
    (no known anomalies in the soak's data folder, so no metric). So the base aliases `champion` to the challenger of
    such a model, as an operator would to start scoring; both soak and clean start from it."""
    from orchestration.commands.demo import RANGE_END_TAG, RANGE_START_TAG
    from orchestration.commands.erp_demo import drop_day
    from orchestration.commands.soak_world import Phase
    from orchestration.partitions import month_key

    with Phase("base", work, None, truth, today=day) as base:
        drop_day(company, base.data / "erp" / "inbox", day, None, base.root / "exports")
        plan = [
            ("ingest_bcb", MARKET_HISTORY_START),
            ("ingest_open_finance", ERP_START),
            ("ingest_erp", ERP_START),
            ("ingest_customs", ERP_START),  # no broker files in the soak: its raw tables exist, empty, for staging
            ("ingest_bank_statements", ERP_START),  # no statement files either: empty raw tables for staging
            ("transform", None),
        ]
        for job, first in plan:
            tags = {RANGE_START_TAG: month_key(first), RANGE_END_TAG: month_key(day.isoformat())} if first else {}
            result = base.run(job, tags)
            say(f"  base {job}: {'ok' if result.success else 'FAILED'} in {result.seconds:.1f} s")
            if not result.success and not (job == "transform" and "_promotion" in (result.error or "")):
                raise RuntimeError(f"the base failed in {job}: {result.error} (log: {base.logs / 'worker.log'})")
        promoted = base.call({"op": "promote"}).get("promoted", [])
        if promoted:
            say(f"  base: no champion for {', '.join(promoted)} (refused by the promotion gate): made champion")
        return base.data, promoted


def run_day(phase, company, day: date, previous: date, fault) -> dict:
    """One business day: the ERP's drop, each source job for D's month, then transform_daily; with a fault."""
    from orchestration.commands.erp_demo import drop_day
    from orchestration.defs.jobs import SOURCE_JOBS
    from orchestration.partitions import month_key

    started = time.monotonic()
    drop_day(company, Path(phase.env["ERP_INBOX_DIR"]), day, previous, phase.root / "exports")
    phase.set_day(day)
    record: dict = {"day": day.isoformat(), "fault": fault.name if fault else None, "runs": [], "ok": True}
    jobs = [(name, {PARTITION_TAG: month_key(day.isoformat())}) for name, _ in SOURCE_JOBS]
    for job, tags in [*jobs, ("transform_daily", {})]:
        if fault:
            tags = fault.before(phase, job, tags)
        again, attempts = 0, 0
        while True:
            result = phase.run(job, tags, watch=fault.watch(phase, job) if fault else None)
            record["runs"].append(
                {
                    "job": job,
                    "run_id": result.run_id,
                    "success": result.success,
                    "seconds": round(result.seconds, 2),
                    **({"error": result.error} if result.error else {}),
                }
            )
            if result.success:
                again += fault.after(phase, job, result) if fault else 0
                if again:
                    again -= 1
                    continue
                break
            attempts += 1
            if attempts > 3 or not (fault and fault.recover(phase, job, result)):
                record.update(ok=False, error=f"{job}: {result.error}")
                return record
    record["done_at"] = time.monotonic()
    if fault:
        fault.verify(phase)
    record["seconds"] = round(time.monotonic() - started, 1)
    record["checksums"] = phase.checksums(DATABASES, EXCLUDED_COLUMNS)
    return record


def replay(phase, company, days: list[date], plan: list[str | None], records: list[dict], on_day=None) -> None:
    """The days on one phase, one fault a day from `plan` (None: none); a record per day into `records`, then
    `on_day()` (which saves the report so far)."""
    from orchestration.commands.soak_faults import new_fault

    previous = days[0] - timedelta(days=1)
    for day, name in zip(days, plan, strict=True):
        fault = new_fault(name) if name else None
        try:
            record = run_day(phase, company, day, previous, fault)
        except Exception as error:  # noqa: BLE001 - a day that broke the soak itself: reported, the phase stops
            record = {"day": day.isoformat(), "fault": name, "ok": False, "error": f"{type(error).__name__}: {error}"}
        previous = day
        if fault:
            record.update(surfaced=fault.surfaced, check=fault.check, injected_at=fault.injected_at)
            if fault.injected_at is None:
                record["check"] = record["check"] or "the fault was never injected"
        records.append(record)
        if on_day is not None:
            on_day()
        outcome = "ok" if record["ok"] else f"FAILED {record['error']}"
        say(f"  {' '.join(filter(None, [phase.name, str(day), name]))}: {outcome} in {record.get('seconds', '-')} s")
        if "runs" not in record:
            return


def compared_days(clean_records: list[dict], soak_records: list[dict]) -> tuple[list[dict], dict]:
    """Each soak day (a copy) compared with the clean run's same day, its recovery time; and the soak's last
    checksums."""
    clean_days = {record["day"]: record.get("checksums") for record in clean_records}
    days, last = [], {}
    for source in soak_records:
        record = dict(source)
        clean_day = clean_days.get(record["day"])
        if record["ok"]:
            last = record["checksums"]
            record["differences"] = (
                differences(record["checksums"], clean_day) if clean_day else ["no clean run of that day"]
            )
            record["equal"] = not record["differences"]
        injected = record.pop("injected_at", None)
        if record["fault"] and injected is not None and record["ok"] and record["equal"]:
            record["recovery_s"] = round(record["done_at"] - injected, 1)
        record.pop("done_at", None)
        record.pop("checksums", None)
        days.append(record)
    return days, last


def differences(ours: dict[str, dict], clean: dict[str, dict]) -> list[str]:
    """Tables whose rows or row hashes differ from the clean run's (or exist on one side only)."""
    found = []
    for table in sorted(set(ours) | set(clean)):
        a, b = ours.get(table), clean.get(table)
        if a is None or b is None:
            found.append(f"{table}: only in the {'clean run' if a is None else 'soak'}")
        elif (a["rows"], a["xor"], a["sum"]) != (b["rows"], b["xor"], b["sum"]):
            found.append(
                f"{table}: {a['rows']} rows vs {b['rows']} clean"
                + (", hashes differ" if a["rows"] == b["rows"] else "")
            )
    return found


def print_report(report: dict) -> None:
    from orchestration.commands.soak_faults import FAULTS

    say("")
    say(f"{'day':<11} {'fault':<16} {'surfaced as':<42} {'recovery':>9}  marts = clean")
    for day in report["days"]:
        how = FAULTS[day["fault"]].how if day["fault"] in FAULTS else "-"
        recovery = f"{day['recovery_s']:.1f} s" if day.get("recovery_s") is not None else "-"
        equal = "yes" if day.get("equal") else ("NO: " + "; ".join(day.get("differences", []))[:200])
        if not day["ok"]:
            equal = f"DAY FAILED: {day.get('error', '')[:300]}"
        check = f"  CHECK FAILED: {day['check']}" if day.get("check") else ""
        say(f"{day['day']:<11} {day['fault'] or 'none':<16} {how:<42} {recovery:>9}  {equal}{check}")
        for line in day.get("surfaced") or []:
            say(f"{'':<12}- {line[:300]}")
    final = report["final"]
    say("")
    say(
        f"Final marts vs the clean run: {final['tables']} tables, {final['rows']} rows; "
        + ("every table equal (rows, XOR and sum of row hashes)" if not final["differences"] else "DIFFERENT:")
    )
    for line in final["differences"]:
        say(f"  {line}")
    say(
        f"Excluded columns (load/arrival/score stamps): {', '.join(EXCLUDED_COLUMNS)}. Wall {report['wall_s']:.0f} s "
        f"(base {report['base_s']:.0f} s, clean {report['clean_s']:.0f} s, soak {report['soak_s']:.0f} s); "
        f"load average {report['load']['start']} -> {report['load']['end']}; instance: {report['instance']}"
    )
    say(f"Report: {report['json']}")


def run(args: argparse.Namespace) -> int:
    from orchestration.commands.erp_demo import generate_demo_company
    from orchestration.commands.soak_faults import FAULTS
    from orchestration.commands.soak_world import Phase
    from orchestration.dbt_manifest import refresh_manifest
    from orchestration.env_defaults import apply_env_defaults
    from sandboxes.demo_company.company import generate

    def stop(signum, frame):  # SIGTERM (a CI timeout, a supervisor): unwind, so workers, servers, databases go
        raise SystemExit(f"importau soak: stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    started, load_start = time.monotonic(), loadavg()
    names = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = [name for name in names if name not in FAULTS and name != "none"]
    if unknown or not names or args.days < 1:
        print(f"importau soak: unknown faults {unknown}; known: {', '.join(FAULTS)}, none", file=sys.stderr)
        return 2
    from ingestion.common.redact import redact_url, url_userinfo_problem

    if args.postgres_dsn and (problem := url_userinfo_problem(args.postgres_dsn)):
        print(f"importau soak: --postgres-dsn {redact_url(args.postgres_dsn)}: {problem}", file=sys.stderr)
        return 2
    days = business_days(date.fromisoformat(args.start), args.days)
    plan = [names[i % len(names)] for i in range(len(days))]
    apply_env_defaults()
    soaks = Path(os.environ["IMPORTAU_DATA_DIR"]) / "soak"
    soaks.mkdir(parents=True, exist_ok=True)
    work = Path(args.work or tempfile.mkdtemp(prefix="work-", dir=soaks))
    work.mkdir(parents=True, exist_ok=True)
    report_path = Path(args.json or soaks / f"report-{time.strftime('%Y%m%d-%H%M%S')}.json")
    report_path.parent.mkdir(parents=True, exist_ok=True)
    s3 = "s3_stop" in plan
    instance = "deployed dagster.yaml on a throwaway PostgreSQL database" if args.postgres_dsn else "local SQLite"
    say(f"importau soak: {len(days)} business days {days[0]}..{days[-1]}, faults {', '.join(plan)}")
    say(f"  instance: {instance}; lake: {'SeaweedFS S3' if s3 else 'local folder'}; work folder {work}")
    report: dict = {"days": [], "json": str(report_path), "instance": instance, "lake": "s3" if s3 else "folder"}
    try:
        _, parsed = refresh_manifest()
        say(f"  dbt manifest {'parsed' if parsed else 'current'}")
        # the clean company: the soak drops `generate()`'s ERP rows day by day against this bank truth
        truth = generate_demo_company(work / "company", messiness="clean") / "bank"
        company = generate()
        base_started = time.monotonic()
        marker, base_day = work / "base" / "base.json", days[0] - timedelta(days=1)
        if args.work and marker.exists() and json.loads(marker.read_text())["day"] == base_day.isoformat():
            base, report["base_promoted"] = work / "base" / "data", json.loads(marker.read_text())["promoted"]
            say(f"  base: reusing {base} (built by an earlier soak in this --work folder)")
        else:
            base, report["base_promoted"] = build_base(work, company, truth, base_day)
            marker.write_text(json.dumps({"day": base_day.isoformat(), "promoted": report["base_promoted"]}))
        report["base_s"] = time.monotonic() - base_started
        clean_records: list[dict] = []
        soak_records: list[dict] = []
        saving = threading.Lock()

        def save_progress() -> None:
            """The report so far (days compared where both sides ran them), for a long soak cut short."""
            with saving:
                report["days"] = compared_days(clean_records, soak_records)[0]
                report.update(partial=True, clean_days_done=len(clean_records), wall_s=time.monotonic() - started)
                report_path.write_text(json.dumps(report, indent=1, default=str))

        phases = {"postgres_dsn": args.postgres_dsn or None, "keep": args.keep, "s3": s3}
        if args.side_by_side:
            with (
                Phase("clean", work, base, truth, **phases) as clean,
                Phase("soak", work, base, truth, **phases) as soak,
            ):
                clean.instance(), soak.instance()  # opened before the threads (PostgreSQL settings via os.environ)
                replays = [
                    threading.Thread(
                        target=replay,
                        args=(clean, company, days, [None] * len(days), clean_records, save_progress),
                        daemon=True,
                    ),
                    threading.Thread(
                        target=replay, args=(soak, company, days, plan, soak_records, save_progress), daemon=True
                    ),
                ]
                for thread in replays:
                    thread.start()
                for thread in replays:
                    while thread.is_alive():  # in steps: a signal handler runs between them
                        thread.join(timeout=1.0)
                report["soak_runs"] = len(soak.runs)
            report["clean_s"] = report["soak_s"] = time.monotonic() - base_started - report["base_s"]
        else:
            clean_started = time.monotonic()
            with Phase("clean", work, base, truth, **phases) as clean:
                replay(clean, company, days, [None] * len(days), clean_records, save_progress)
            report["clean_s"] = time.monotonic() - clean_started
            soak_started = time.monotonic()
            with Phase("soak", work, base, truth, **phases) as soak:
                replay(soak, company, days, plan, soak_records, save_progress)
                report["soak_runs"] = len(soak.runs)
            report["soak_s"] = time.monotonic() - soak_started
        report["days"], last = compared_days(clean_records, soak_records)
        report.pop("partial", None)
        report["clean_days"] = [
            {k: v for k, v in r.items() if k not in ("checksums", "done_at")} for r in clean_records
        ]
        failed_clean = [r for r in clean_records if not r["ok"]]
        if len(clean_records) < len(days) or failed_clean:
            error = f"{failed_clean[0]['day']}: {failed_clean[0].get('error')}" if failed_clean else "stopped"
            raise RuntimeError(f"the clean run failed ({error}): nothing to compare with")
        final_clean = clean_records[-1]["checksums"]
        report["final"] = {
            "tables": len(final_clean),
            "rows": sum(t["rows"] for t in final_clean.values()),
            "differences": differences(last, final_clean) if last else ["the soak's last day failed"],
            "clean": final_clean,
            "soak": last,
        }
    finally:
        report["wall_s"] = time.monotonic() - started
        report["load"] = {"start": load_start, "end": loadavg()}
        report_path.write_text(json.dumps(report, indent=1, default=str))
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print_report({"base_s": 0, "clean_s": 0, "soak_s": 0, **report})
    failed = [d for d in report["days"] if not d["ok"] or not d.get("equal") or d.get("check")]
    return 1 if failed or report["final"]["differences"] else 0
