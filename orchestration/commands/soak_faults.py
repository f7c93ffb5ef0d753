"""The faults `importau soak` injects, one per day, in a fixed order (FAULTS), and what an operator then does.

Each fault hooks the day's runs (soak.run_day): `before(job)` injects before a run of its target job (and may
change the run's tags), `watch(job)` returns a callable polled while a run goes (to strike mid-run), `recover(job,
result)` does what the operator (or the ERP, or the account holder) would after a failed run and says whether
to run the job again, `after(job, result)` may ask for more runs of the job (a re-sent file). Each keeps
`surfaced` (how it showed: run failed / retried / quarantined / dead-lettered) and `injected_at`.
"""

import csv
import io
import json
import os
import secrets
import signal
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from orchestration.commands.soak_world import Phase, RunResult

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"
S3_OUTAGE_S = 60.0  # longer than the lake's bounds (S3_*: 3 attempts x (5 + 10) s): the step fails, then S3 is back
AMOUNT_COLUMNS = {"payables": "amount", "receivables": "amount_brl", "payable_settlements": "amount"}


@dataclass
class Fault:
    name: str = ""
    how: str = ""  # how it surfaces, in a few words (the report's column)
    target: str = ""  # the job it strikes
    surfaced: list[str] = field(default_factory=list)
    injected_at: float | None = None  # time.monotonic()
    check: str | None = None  # a failed check of the fault's own outcome (None: it held)

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        return tags

    def watch(self, phase: Phase, job: str):
        return None

    def recover(self, phase: Phase, job: str, result: RunResult) -> bool:
        self.surfaced.append(f"{job} failed: {result.error}")
        return False

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        """How many more runs of the job the fault's recovery asks for (e.g. a re-sent file): 0 or more."""
        return 0

    def verify(self, phase: Phase) -> None:
        """After the day: check the fault's own outcome (sets `check` when it did not hold)."""

    def mark(self) -> None:
        if self.injected_at is None:
            self.injected_at = time.monotonic()


def _step_started(phase: Phase, run_id: str, step: str) -> bool:
    import dagster as dg

    return any(
        entry.dagster_event.step_key == step
        for entry in phase.instance().all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    )


def _started_run(phase: Phase, after_run_ids: set[str]) -> str | None:
    runs = phase.instance().get_runs(limit=1)
    return runs[0].run_id if runs and runs[0].run_id not in after_run_ids else None


@dataclass
class Kill(Fault):
    """The run's process SIGKILLed mid-step (the OOM killer, a redeploy): the run stays STARTED holding its
    `warehouse` slot; `importau pools` logic finds the slot of a run whose worker is gone, fails the run and frees
    it (what the deployed daemon's run monitoring does for ended runs), and the day runs the job again."""

    name: str = "kill"
    how: str = "run killed: left STARTED holding its slot"
    target: str = "ingest_erp"
    step: str = "erp_raw_load"
    delay_s: float = 1.0

    def watch(self, phase: Phase, job: str):
        if job != self.target or self.injected_at is not None:
            return None
        known = {run.run_id for run in phase.instance().get_runs(limit=5)}
        seen: dict[str, float] = {}

        def strike() -> None:
            if self.injected_at is not None:
                return
            run_id = seen.get("run") or _started_run(phase, known)
            if run_id is None:
                return
            seen["run"] = run_id
            if "step" not in seen and _step_started(phase, run_id, self.step):
                seen["step"] = time.monotonic()
            if "step" in seen and time.monotonic() - seen["step"] >= self.delay_s:
                self.mark()
                pid = phase.kill_worker()
                self.surfaced.append(f"worker pid {pid} SIGKILLed {self.delay_s:.0f} s into step {self.step}")

        return strike

    def recover(self, phase: Phase, job: str, result: RunResult) -> bool:
        if not result.killed or not result.run_id:
            return super().recover(phase, job, result)
        from orchestration.commands import pools

        instance = phase.instance()
        status = instance.get_run_by_id(result.run_id).status.value
        stale = [slot for slot in pools.stale_slots(instance) if slot.run_id == result.run_id]
        freed = pools.free_slots(instance, result.run_id)
        after = instance.get_run_by_id(result.run_id).status.value
        self.surfaced.append(
            f"run {result.run_id[:8]} left {status} holding {len(stale)} slot(s) "
            f"({', '.join(f'{s.pool}/{s.step_key}' for s in stale) or 'none'}): pools found it "
            f"({stale[0].state if stale else '-'}), "
            f"marked it {after} and {'freed' if freed else 'could not free'} the slot(s); the job ran again"
        )
        if not stale:
            self.check = "the killed run held no pool slot (expected its warehouse slot)"
        return freed


@dataclass
class S3Stop(Fault):
    """S3 stops answering (SeaweedFS SIGSTOPped: the port accepts, nothing answers) during a step that writes the
    lake, for S3_OUTAGE_S; the step fails within the lake's bounds; once S3 is back the job runs again."""

    name: str = "s3_stop"
    how: str = "run failed (LakeError)"
    target: str = "ingest_bcb"
    step: str = "bcb_pull"
    outage_s: float = S3_OUTAGE_S

    def watch(self, phase: Phase, job: str):
        if job != self.target or self.injected_at is not None:
            return None
        known = {run.run_id for run in phase.instance().get_runs(limit=5)}

        def strike() -> None:
            if self.injected_at is not None:
                return
            run_id = _started_run(phase, known)
            if run_id and _step_started(phase, run_id, self.step):
                self.mark()
                os.killpg(phase.s3_server.pid, signal.SIGSTOP)
                self._resume = threading.Timer(self.outage_s, os.killpg, (phase.s3_server.pid, signal.SIGCONT))
                self._resume.start()
                self.surfaced.append(f"S3 stopped (SIGSTOP) for {self.outage_s:.0f} s at step {self.step}")

        return strike

    def recover(self, phase: Phase, job: str, result: RunResult) -> bool:
        self.surfaced.append(f"{job} failed: {result.error}")
        resume = getattr(self, "_resume", None)
        if resume is None:
            return False
        resume.join(timeout=self.outage_s + 5)
        self.surfaced.append("S3 answered again (SIGCONT); the job ran again")
        return True

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        if job == self.target and getattr(self, "_resume", None) is not None and not self.check:
            if not any("failed" in line for line in self.surfaced):
                self.check = "the run succeeded through the S3 outage (expected it to fail within the lake's bounds)"
            self._resume.join(timeout=self.outage_s + 5)
        return 0


@dataclass
class BcbHttp(Fault):
    """The BCB answers 429, 500 and truncated bodies (two of each): the client retries, the run succeeds."""

    name: str = "bcb_http"
    how: str = "retried"
    target: str = "ingest_bcb"

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        if job == self.target and self.injected_at is None:
            self.mark()
            for kind in ("429", "500", "truncated"):
                phase.replay.inject(kind, count=2)
        return tags

    def recover(self, phase: Phase, job: str, result: RunResult) -> bool:
        phase.replay.clear_faults()
        self.surfaced.append(f"{job} failed after its retries: {result.error}; ran again")
        return True

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        if job != self.target:
            return 0
        import dagster as dg

        retries = 0
        for entry in phase.instance().all_logs(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION):
            value = entry.asset_materialization.metadata.get("retries")
            retries += int(value.value) if value is not None and value.value is not None else 0
        self.surfaced.append(f"retried: {retries} retries recorded in bcb_pull's metadata; the run succeeded")
        if retries < 6:
            self.check = f"expected at least 6 retries (2 x 429, 500, truncated), the metadata says {retries}"
        return 0


def _day_files(phase: Phase) -> list[Path]:
    inbox = Path(phase.env["ERP_INBOX_DIR"])
    return sorted(p for p in inbox.glob(f"*__{phase.today.isoformat()}.csv") if p.is_file())


def _touch_later(path: Path) -> None:
    """A modification time after every file already in the inbox (scan takes files oldest first)."""
    newest = max((p.stat().st_mtime for p in path.parent.iterdir() if p.is_file() and p != path), default=0.0)
    stamp = max(time.time(), newest + 0.01)
    os.utime(path, (stamp, stamp))
    # never in the future: the inbox scan leaves a file modified after "now" alone (still being written), so the
    # same-day re-run would miss it (the 30-day soak's 2024-11-07 correction landed the next day that way)
    time.sleep(max(0.0, stamp - time.time()) + 0.05)


@dataclass
class ErpCorrupt(Fault):
    """The day's biggest ERP export arrives corrupt (cut mid-row, plus a row with a non-numeric amount): the bad
    rows are quarantined with their reasons; the ERP sends the file again and it loads."""

    name: str = "erp_corrupt"
    how: str = "rows quarantined"
    target: str = "ingest_erp"

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        if job != self.target or self.injected_at is not None:
            return tags
        files = _day_files(phase)
        if not files:
            self.check = "no ERP export that day to corrupt"
            return tags
        self.file = max(files, key=lambda p: p.stat().st_size)
        self.good = self.file.read_bytes()
        lines = self.good.decode().splitlines()
        header, rows = lines[0], lines[1:]
        kept = rows[: max(1, len(rows) // 2)]
        cut = kept[-1][: len(kept[-1]) // 2]  # the transfer stopped mid-row
        garbage = ",".join(["n/d"] * len(header.split(",")))
        self.file.write_bytes(("\n".join([header, *kept[:-1], garbage, cut]) + "\n").encode())
        self.mark()
        return tags

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        if job != self.target or not hasattr(self, "good") or hasattr(self, "resent"):
            return 0
        inbox = self.file.parent
        reasons = sorted((inbox / "quarantine").glob(f"{self.file.name}*.reason.txt"))
        reason = next((line for p in reasons for line in p.read_text().splitlines() if "line" in line), "")
        self.surfaced.append(f"quarantined: {self.file.name} ({reason[:160] or 'no reason file found'})")
        if not reasons:
            self.check = f"no quarantine reason for {self.file.name} under {inbox / 'quarantine'}"
        self.resent = inbox / f"{self.file.stem}-resent.csv"
        self.resent.write_bytes(self.good)
        _touch_later(self.resent)
        self.surfaced.append(f"the ERP re-sent {self.resent.name}; ingest_erp ran again")
        return 1


@dataclass
class ErpCorrection(Fault):
    """A wrong amount lands, then the ERP re-drops the corrected export (same `updated_at`): the correction must
    win in staging (arrival order), checked on the row itself and by the marts."""

    name: str = "erp_correction"
    how: str = "wrong row landed, correction won"
    target: str = "ingest_erp"

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        if job != self.target or self.injected_at is not None:
            return tags
        files = [p for p in _day_files(phase) if p.name.split("__")[0] in AMOUNT_COLUMNS]
        if not files:
            self.check = "no ERP export with an amount that day to correct"
            return tags
        self.file = files[0]
        self.entity = self.file.name.split("__")[0]
        self.good = self.file.read_bytes()
        rows = list(csv.DictReader(io.StringIO(self.good.decode())))
        column, key = AMOUNT_COLUMNS[self.entity], next(iter(rows[0]))
        self.key, self.column, self.right = rows[0][key], column, rows[0][column]
        self.key_column = key
        rows[0][column] = str(Decimal(self.right) + Decimal("1000"))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        self.file.write_bytes(out.getvalue().encode())
        self.mark()
        return tags

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        if job != self.target or not hasattr(self, "good") or hasattr(self, "correction"):
            return 0
        wrong = str(Decimal(self.right) + Decimal("1000"))
        self.surfaced.append(f"the wrong {self.entity} {self.key} {self.column}={wrong} landed")
        self.correction = self.file.parent / f"{self.file.stem}-correction.csv"
        self.correction.write_bytes(self.good)
        _touch_later(self.correction)
        self.surfaced.append(f"the correction ({self.column}={self.right}, same updated_at) re-dropped; ingest_erp ran")
        return 1

    def verify(self, phase: Phase) -> None:
        if not hasattr(self, "good"):
            return
        rows = phase.query(
            f"SELECT toString({self.column}) FROM staging.stg_erp__{self.entity} WHERE {self.key_column} = '{self.key}'"
        )
        values = [Decimal(row[0]) for row in rows]
        if values != [Decimal(self.right)]:
            self.check = f"staging holds {self.column}={values} for {self.key}, expected [{self.right}]"
        else:
            self.surfaced.append(f"staging keeps the correction ({self.column}={self.right})")


@dataclass
class ConsentExpired(Fault):
    """The sandbox bank's consent expires: the Open Finance run fails with what to do; the account holder
    authorises a new consent (its id and one-time code into the config, the old refresh token dropped) and the
    job runs again."""

    name: str = "consent_expired"
    how: str = "run failed (ConsentError)"
    target: str = "ingest_open_finance"

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        if job != self.target or self.injected_at is not None:
            return tags
        entries = json.loads(phase.env["OPEN_FINANCE_INSTITUTIONS"])
        self.institution = entries[0]["name"]
        phase.banks[self.institution].expire_consent(entries[0]["consent_id"])
        self.mark()
        return tags

    def recover(self, phase: Phase, job: str, result: RunResult) -> bool:
        if job != self.target or not hasattr(self, "institution"):
            return super().recover(phase, job, result)
        from ingestion.open_finance.auth import TokenStore

        self.surfaced.append(f"{job} failed: {result.error}")
        consent_id, code = phase.banks[self.institution].create_authorised_consent()
        entries = json.loads(phase.env["OPEN_FINANCE_INSTITUTIONS"])
        for entry in entries:
            if entry["name"] == self.institution:
                entry["consent_id"] = consent_id
        TokenStore(Path(phase.env["OPEN_FINANCE_STATE_DIR"]) / "tokens.json").put(self.institution, None)
        phase.set_env(
            OPEN_FINANCE_INSTITUTIONS=json.dumps(entries),
            **{f"OPEN_FINANCE_{self.institution.upper()}_AUTHORIZATION_CODE": code},
        )
        self.surfaced.append(f"new consent {consent_id} authorised at {self.institution}; the job ran again")
        return True


@dataclass
class RabbitPoison(Fault):
    """A poison message (not JSON) next to a valid ERP event on RabbitMQ (a throwaway exchange and queues): the
    consumer dead-letters it with its reason and goes on; the valid event requests the day's ERP run (as the
    erp_events_sensor does) and is acknowledged once that run is stored."""

    name: str = "rabbitmq_poison"
    how: str = "dead-lettered"
    target: str = "ingest_erp"
    url: str = RABBITMQ_URL

    def topology(self) -> dict[str, str]:
        tag = self.__dict__.setdefault("_tag", secrets.token_hex(4))
        return {
            "queue": f"importau.soak.{tag}.events",
            "exchange": f"importau.soak.{tag}",
            "dead_letter_exchange": f"importau.soak.{tag}.dlx",
            "dead_letter_queue": f"importau.soak.{tag}.dead",
        }

    def before(self, phase: Phase, job: str, tags: dict) -> dict:
        if job != self.target or self.injected_at is not None:
            return tags
        from datetime import datetime
        from datetime import time as day_time

        import dagster as dg
        import pika

        from ingestion.common.clock import SAO_PAULO
        from ingestion.erp.events import ErpEvent, EventConsumer, publish_event
        from orchestration.defs.erp_events import RUN_KEY_TAG, events_to_run_requests

        topology = self.topology()
        EventConsumer(self.url, **topology).close()  # declares the exchange, queues and dead-lettering
        occurred = datetime.combine(phase.today, day_time(12), SAO_PAULO)
        key = f"SOAK-{phase.today}"
        event = ErpEvent("payable.settled", "payables", key, occurred, phase.today, f"soak-{self._tag}")
        with pika.BlockingConnection(pika.URLParameters(self.url)) as connection:
            channel = connection.channel()
            channel.confirm_delivery()
            channel.basic_publish(topology["exchange"], "payable.settled", b'{"event_type": "payable.set')
            publish_event(channel, event, exchange=topology["exchange"])
        self.mark()

        def run_exists(key: str) -> bool:
            return bool(phase.instance().get_run_ids(dg.RunsFilter(tags={RUN_KEY_TAG: key}), limit=1))

        self._run_exists = run_exists
        with EventConsumer(self.url, **topology) as consumer:
            requests, _ = events_to_run_requests(consumer, run_exists)
            dead = list(consumer.dead_lettered)
        self.surfaced.append(f"dead-lettered: {dead[0][1][:160]}" if dead else "the poison was NOT dead-lettered")
        if len(dead) != 1 or len(requests) != 1:
            self.check = f"expected 1 dead letter and 1 run request, got {len(dead)} and {len(requests)}"
            return tags
        request = requests[0]
        self.surfaced.append(f"the valid event requested partition {request.partition_key}; ran it")
        return {**tags, "dagster/partition": request.partition_key, RUN_KEY_TAG: request.run_key}

    def after(self, phase: Phase, job: str, result: RunResult) -> int:
        if job != self.target or not hasattr(self, "_run_exists"):
            return 0
        import pika

        from ingestion.erp.events import REASON_HEADER, EventConsumer
        from orchestration.defs.erp_events import events_to_run_requests

        topology = self.topology()
        with EventConsumer(self.url, **topology) as consumer:
            requests, acked = events_to_run_requests(consumer, self._run_exists)
        with pika.BlockingConnection(pika.URLParameters(self.url)) as connection:
            channel = connection.channel()
            method, properties, _ = channel.basic_get(topology["dead_letter_queue"], auto_ack=True)
            reason = (properties.headers or {}).get(REASON_HEADER) if method else None
            waiting = channel.queue_declare(topology["queue"], passive=True).method.message_count
            for name in (topology["queue"], topology["dead_letter_queue"]):
                channel.queue_delete(name)
            for name in (topology["exchange"], topology["dead_letter_exchange"]):
                channel.exchange_delete(name)
        self.surfaced.append(f"after the run: {acked} event acked, {waiting} left in the queue")
        if acked != 1 or requests or waiting or not reason:
            self.check = f"acked {acked}, new requests {len(requests)}, left {waiting}, dead letter reason {reason!r}"
        return 0


FAULTS = {
    fault.name: fault
    for fault in (Kill, S3Stop, BcbHttp, ErpCorrupt, ErpCorrection, ConsentExpired, RabbitPoison)
    for fault in [fault()]
}
ORDER = list(FAULTS)  # the fixed order of the issue: kill, s3_stop, bcb_http, erp_corrupt, ...


def new_fault(name: str) -> Fault | None:
    """A fresh fault of that name (None for `none`, a day without fault)."""
    if name == "none":
        return None
    return type(FAULTS[name])()
