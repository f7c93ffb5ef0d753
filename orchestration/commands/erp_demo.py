"""The demo company as a local stand-in: generated into $IMPORTAU_DATA_DIR/demo and dropped into the ERP inbox (its
exports) and the customs inbox (its declarations as the broker's DI XML / DUIMP JSON files), and, with
`IMPORTAU_DEMO_BANK_STATEMENTS=ofx,cnab240` (or one format), the bank statements inbox (its banks' statement files:
the months of `IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN=<first>..<last>`, which `importau demo` sets to its range, the
way a bank delivers the statements of the period asked for; unset, every month of the company).

The company is generated at a messiness level (`sandboxes/demo_company/messiness.py`; default `realistic`, or
`IMPORTAU_DEMO_SEED` / `IMPORTAU_DEMO_MESSINESS`, which `importau demo --seed --messiness` sets). The generator is
deterministic, so regenerating gives the same bytes and the file-drop registry skips files it
has already loaded. The bank truth it writes feeds the Open Finance sandbox; the ground truth is for
evaluation only and never reaches the pipeline.

Day by day (`importau soak`): `company_between` keeps the rows the ERP changed between the ends of two São Paulo days
(`updated_at`), `drop_day` drops the rows changed on one day (or up to it) as that day's exports, one file per
entity that changed (`<entity>__<day>.csv|xlsx`); the demo company carries each row's last version only, so a row
appears on the day of its last change.
"""

import dataclasses
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingestion.common.clock import SAO_PAULO
from sandboxes.demo_company.company import DemoCompany, generate
from sandboxes.demo_company.messiness import DEFAULT_LEVEL
from sandboxes.demo_company.messiness import apply as apply_messiness
from sandboxes.demo_company.writers import (
    write_bank_statements,
    write_bank_truth,
    write_customs_declarations,
    write_exports,
    write_ground_truth,
)

DEMO_SEED = 42
DEMO_SCALE = 1.0


def generate_demo_company(
    out: Path,
    seed: int = DEMO_SEED,
    scale: float = DEMO_SCALE,
    messiness: str = DEFAULT_LEVEL,
    bank_statements: tuple[str, ...] = (),
    statements_between: tuple[date, date] | None = None,
) -> Path:
    company = apply_messiness(generate(seed=seed, scale=scale), messiness)
    write_exports(company, out / "erp_exports")
    write_bank_truth(company, out / "bank")
    write_ground_truth(company, out / "ground_truth.json")
    write_customs_declarations(company, out / "customs_declarations")
    if bank_statements:
        shutil.rmtree(out / "bank_statements", ignore_errors=True)  # an earlier run's other period is not dropped
        write_bank_statements(company, out / "bank_statements", formats=bank_statements, between=statements_between)
    return out


def statement_months(between: str) -> tuple[date, date] | None:
    """`<first>..<last>` (ISO dates) widened to whole months (a bank's statements are monthly), or None if empty."""
    if not between.strip():
        return None
    first, _, last = between.partition("..")
    try:
        start, end = date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
    except ValueError as error:
        raise ValueError(f"IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN={between!r}: expected <first>..<last>") from error
    following = date(end.year + end.month // 12, end.month % 12 + 1, 1)
    return start.replace(day=1), following - timedelta(days=1)


def drop_statements(statements: Path, inbox: Path) -> list[Path]:
    """Copy the banks' statement files into the bank statements inbox (same names: `<compe>_<branch>_<number>_
    <month>.ofx|.ret`)."""
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = []
    for source in sorted(statements.iterdir()):
        if source.suffix in {".ofx", ".ret"}:
            shutil.copyfile(source, inbox / source.name)
            dropped.append(inbox / source.name)
    return dropped


def drop_declarations(declarations: Path, inbox: Path) -> list[Path]:
    """Copy the broker's declaration files into the customs inbox (same names: DI_<number>.xml, DUIMP_<...>.json)."""
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = []
    for source in sorted(declarations.iterdir()):
        if source.suffix in {".xml", ".json"}:
            shutil.copyfile(source, inbox / source.name)
            dropped.append(inbox / source.name)
    return dropped


def drop_exports(exports: Path, inbox: Path) -> list[Path]:
    """Copy the ERP exports into the inbox the way the ERP drops them: `<entity>__<export name>.<ext>`."""
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = []
    for source in sorted(exports.iterdir()):
        if source.suffix not in {".csv", ".xlsx"}:
            continue
        target = inbox / f"{source.stem}__demo{source.suffix}"
        shutil.copyfile(source, target)
        dropped.append(target)
    return dropped


def end_of_day(day: date) -> datetime:
    """The first instant after `day` in São Paulo, in UTC (the ERP's `updated_at` are UTC)."""
    return datetime.combine(day + timedelta(days=1), time.min, SAO_PAULO).astimezone(UTC)


def company_between(company: DemoCompany, after: date | None, through: date) -> DemoCompany:
    """The company with the ERP rows changed after the end of `after` (None: from the start) up to the end of
    `through` (São Paulo days, by `updated_at`)."""
    erp = {}
    for entity, table in company.erp.items():
        updated = table.column("updated_at")
        keep = pc.less(updated, pa.scalar(end_of_day(through), updated.type))
        if after is not None:
            keep = pc.and_(keep, pc.greater_equal(updated, pa.scalar(end_of_day(after), updated.type)))
        erp[entity] = table.filter(keep)
    return dataclasses.replace(company, erp=erp)


def drop_day(company: DemoCompany, inbox: Path, day: date, after: date | None, work: Path) -> list[Path]:
    """Drop into the inbox the exports of the rows changed after `after` up to `day`: one file per entity with
    rows, named `<entity>__<day>.<ext>` (the exports are written to `work/<day>` first)."""
    sliced = company_between(company, after, day)
    folder = work / day.isoformat()
    write_exports(dataclasses.replace(sliced, erp={e: t for e, t in sliced.erp.items() if t.num_rows}), folder)
    inbox.mkdir(parents=True, exist_ok=True)
    dropped = []
    for source in sorted(folder.iterdir()):
        if source.suffix in {".csv", ".xlsx"}:
            target = inbox / f"{source.stem}__{day.isoformat()}{source.suffix}"
            shutil.copyfile(source, target)
            dropped.append(target)
    return dropped


def load_into_postgres(dsn: str, seed: int = DEMO_SEED, scale: float = DEMO_SCALE) -> str:
    """Also load the demo company into the ERP's PostgreSQL schema `erp`, when ERP_POSTGRES_DSN points at one."""
    from ingestion.erp.postgres import connect, load_company, safe_dsn

    try:
        with connect(dsn, connect_timeout=3) as conn:
            counts = load_company(conn, generate(seed=seed, scale=scale))
    except Exception as error:  # the demo does not need PostgreSQL: say why it was skipped
        return f"PostgreSQL at {safe_dsn(dsn)} not loaded ({type(error).__name__})"
    return f"PostgreSQL at {safe_dsn(dsn)}: schema erp loaded ({sum(counts.values())} rows)"


@contextmanager
def erp_demo_env() -> Iterator[dict[str, str]]:
    data_dir = Path(os.environ["IMPORTAU_DATA_DIR"])
    # `importau demo --seed N --messiness M` sets these two; the default is seed 42 at `realistic`
    seed = int(os.environ.get("IMPORTAU_DEMO_SEED") or DEMO_SEED)
    messiness = os.environ.get("IMPORTAU_DEMO_MESSINESS") or DEFAULT_LEVEL
    # `IMPORTAU_DEMO_BANK_STATEMENTS=ofx,cnab240` (or one of them) also drops the banks' statement files into the
    # bank statements inbox, which `ingest_bank_statements` loads; unset, the inbox stays empty
    statements = tuple(f.strip() for f in os.environ.get("IMPORTAU_DEMO_BANK_STATEMENTS", "").split(",") if f.strip())
    between = statement_months(os.environ.get("IMPORTAU_DEMO_BANK_STATEMENTS_BETWEEN", ""))
    demo = generate_demo_company(
        data_dir / "demo", seed=seed, messiness=messiness, bank_statements=statements, statements_between=between
    )
    from orchestration.commands.demo import release_memory

    release_memory()  # what generating freed goes back to the system before the runs (about 200 MB at scale 30)
    if os.environ.get("ERP_POSTGRES_DSN"):
        print(load_into_postgres(os.environ["ERP_POSTGRES_DSN"]))
    inbox = Path(os.environ.get("ERP_INBOX_DIR") or data_dir / "erp" / "inbox")
    drop_exports(demo / "erp_exports", inbox)
    customs_inbox = Path(os.environ.get("CUSTOMS_INBOX_DIR") or data_dir / "customs" / "inbox")
    drop_declarations(demo / "customs_declarations", customs_inbox)
    statements_inbox = Path(os.environ.get("BANK_STATEMENTS_INBOX") or data_dir / "bank_statements" / "inbox")
    if statements:
        drop_statements(demo / "bank_statements", statements_inbox)
    yield {
        "ERP_INBOX_DIR": str(inbox),
        "CUSTOMS_INBOX_DIR": str(customs_inbox),
        "BANK_STATEMENTS_INBOX": str(statements_inbox),
        "DEMO_BANK_TRUTH_DIR": str(demo / "bank"),
    }
