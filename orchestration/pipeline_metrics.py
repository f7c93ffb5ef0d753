"""Pipeline health as Prometheus metrics, read from the Dagster instance (runs and asset materializations).

Nothing is pushed from the steps: `importau metrics` serves these from one exporter process, which reads the
instance at most once per `interval` seconds, when a scrape comes (a bounded read: the asset records in one
query, the last `max_runs` finished runs, one count per job and status). Every name starts with `importau_`;
README.md (Monitoring) documents each one. What the metrics say is what the assets record: `row_count`,
`quarantined` and `retries` in the metadata of their latest materialization (lake and raw-load assets).
"""

import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from ingestion.common.redact import redact_text

log = logging.getLogger(__name__)

ROWS, QUARANTINED, RETRIES = "row_count", "quarantined", "retries"  # metadata keys the assets record
FINISHED = ("SUCCESS", "FAILURE", "CANCELED")
ACTIVE = ("QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING")


@dataclass(frozen=True)
class AssetHealth:
    asset: str  # the key as the UI writes it: raw/bcb__ptax_quotes
    last_success: float  # Unix time of the latest materialization
    metadata: dict[str, float]  # the numeric row_count / quarantined / retries it recorded


@dataclass(frozen=True)
class JobHealth:
    job: str
    last_status: str  # of its latest finished run: SUCCESS, FAILURE or CANCELED
    last_end: float
    last_duration: float | None  # None: the run never started (failed or canceled while queued)
    last_success_end: float | None  # the latest SUCCESS among the runs read


@dataclass
class Snapshot:
    read_at: float
    assets: list[AssetHealth] = field(default_factory=list)
    jobs: list[JobHealth] = field(default_factory=list)
    runs_total: dict[tuple[str, str], int] = field(default_factory=dict)  # (job, status) -> runs
    active: dict[str, int] = field(default_factory=dict)  # status -> runs


def _number(value) -> float | None:
    raw = getattr(value, "value", value)
    return float(raw) if isinstance(raw, int | float) and not isinstance(raw, bool) else None


def read_assets(instance) -> list[AssetHealth]:
    """Every asset with a materialization: when the latest one happened and the counts it recorded."""
    found = []
    for record in instance.get_asset_records():
        entry = record.asset_entry.last_materialization
        if entry is None or entry.asset_materialization is None:
            continue
        metadata = entry.asset_materialization.metadata
        numbers = {key: _number(metadata[key]) for key in (ROWS, QUARANTINED, RETRIES) if key in metadata}
        found.append(
            AssetHealth(
                asset=record.asset_entry.asset_key.to_user_string(),
                last_success=entry.timestamp,
                metadata={key: value for key, value in numbers.items() if value is not None},
            )
        )
    return found


def read_jobs(instance, max_runs: int, known_jobs: set[str]) -> tuple[list[JobHealth], set[str]]:
    """The latest finished run of each job among the last `max_runs` finished runs (and the jobs seen)."""
    from dagster import DagsterRunStatus, RunsFilter

    records = instance.get_run_records(
        filters=RunsFilter(statuses=[DagsterRunStatus(status) for status in FINISHED]), limit=max_runs
    )
    latest, succeeded = {}, {}
    for record in records:
        job, end = record.dagster_run.job_name, record.end_time or record.update_timestamp.timestamp()
        if job not in latest or end > latest[job][1]:
            latest[job] = (record, end)
        if record.dagster_run.status.value == "SUCCESS" and end > succeeded.get(job, 0.0):
            succeeded[job] = end
    jobs = [
        JobHealth(
            job=job,
            last_status=record.dagster_run.status.value,
            last_end=end,
            last_duration=(record.end_time - record.start_time) if record.start_time and record.end_time else None,
            last_success_end=succeeded.get(job),
        )
        for job, (record, end) in sorted(latest.items())
    ]
    return jobs, known_jobs | set(latest)


def read_snapshot(instance, max_runs: int = 1000, known_jobs: set[str] | None = None) -> tuple[Snapshot, set[str]]:
    from dagster import DagsterRunStatus, RunsFilter

    snapshot = Snapshot(read_at=time.time(), assets=read_assets(instance))
    snapshot.jobs, jobs = read_jobs(instance, max_runs, known_jobs or set())
    for job in sorted(jobs):
        for status in FINISHED:
            runs_filter = RunsFilter(job_name=job, statuses=[DagsterRunStatus(status)])
            snapshot.runs_total[(job, status.lower())] = instance.get_runs_count(filters=runs_filter)
    for status in ACTIVE:
        snapshot.active[status.lower()] = instance.get_runs_count(
            filters=RunsFilter(statuses=[DagsterRunStatus(status)])
        )
    return snapshot, jobs


def source_of(asset: str) -> str | None:
    """`raw/bcb__ptax_quotes` -> `bcb`; None for anything that is not a raw table."""
    layer, _, name = asset.partition("/")
    return name.split("__", 1)[0] if layer == "raw" and "__" in name else None


class PipelineHealthCollector(Collector):
    """A Prometheus collector over the instance: reads it when a scrape finds the last read older than `interval`."""

    def __init__(self, instance, interval: float = 15.0, max_runs: int = 1000, clock=time.time):
        self.instance, self.interval, self.max_runs, self.clock = instance, interval, max_runs, clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._jobs: set[str] = set()  # every job seen since start, so a job's counters outlive the run window
        self._ok, self._errors, self._duration = False, 0, 0.0
        self._last_attempt: float | None = None

    def refresh(self) -> Snapshot | None:
        """Read the instance unless the last attempt is recent; keep the last good snapshot when a read fails."""
        with self._lock:
            if self._last_attempt is not None and self.clock() - self._last_attempt < self.interval:
                return self._snapshot
            self._last_attempt = self.clock()
            started = time.monotonic()
            try:
                self._snapshot, self._jobs = read_snapshot(self.instance, self.max_runs, self._jobs)
                self._ok = True
            except Exception as error:  # a database that is down: say so in a metric, serve the last values
                self._ok, self._errors = False, self._errors + 1
                log.warning("reading the Dagster instance failed: %s", redact_text(str(error).splitlines()[0]))
            self._duration = time.monotonic() - started
            return self._snapshot

    def collect(self):
        snapshot = self.refresh()
        now = self.clock()
        yield from self._exporter_metrics(snapshot)
        if snapshot is None:
            return
        yield from self._asset_metrics(snapshot, now)
        yield from self._run_metrics(snapshot)

    def _exporter_metrics(self, snapshot: Snapshot | None):
        ok = GaugeMetricFamily("importau_exporter_read_success", "1 if the last read of the Dagster instance worked")
        ok.add_metric([], 1.0 if self._ok else 0.0)
        duration = GaugeMetricFamily("importau_exporter_read_duration_seconds", "How long the last read took")
        duration.add_metric([], self._duration)
        errors = CounterMetricFamily("importau_exporter_read_errors", "Failed reads of the Dagster instance")
        errors.add_metric([], float(self._errors))
        yield from (ok, duration, errors)
        if snapshot is not None:
            read_at = GaugeMetricFamily(
                "importau_exporter_last_read_timestamp_seconds", "When the values served were read from the instance"
            )
            read_at.add_metric([], snapshot.read_at)
            yield read_at

    def _asset_metrics(self, snapshot: Snapshot, now: float):
        last = GaugeMetricFamily(
            "importau_asset_last_success_timestamp_seconds",
            "Unix time of the asset's latest materialization",
            labels=["asset"],
        )
        families = {
            ROWS: GaugeMetricFamily(
                "importau_asset_rows_loaded", "row_count of the asset's latest materialization", labels=["asset"]
            ),
            QUARANTINED: GaugeMetricFamily(
                "importau_asset_rows_quarantined",
                "Records its latest materialization quarantined (bad rows or unreadable bodies)",
                labels=["asset"],
            ),
            RETRIES: GaugeMetricFamily(
                "importau_asset_retries",
                "Retried source calls (429/5xx/timeouts/bad bodies) of its latest materialization",
                labels=["asset"],
            ),
        }
        oldest: dict[str, float] = defaultdict(lambda: float("inf"))
        for health in snapshot.assets:
            last.add_metric([health.asset], health.last_success)
            for key, value in health.metadata.items():
                families[key].add_metric([health.asset], value)
            source = source_of(health.asset)
            if source:
                oldest[source] = min(oldest[source], health.last_success)
        lag = GaugeMetricFamily(
            "importau_source_freshness_lag_seconds",
            "Seconds since the source's least recently loaded raw table was last materialized",
            labels=["source"],
        )
        for source, when in sorted(oldest.items()):
            lag.add_metric([source], max(0.0, now - when))
        yield from (last, *families.values(), lag)

    def _run_metrics(self, snapshot: Snapshot):
        duration = GaugeMetricFamily(
            "importau_job_last_run_duration_seconds",
            "Duration of the job's latest finished run",
            labels=["dagster_job"],
        )
        success = GaugeMetricFamily(
            "importau_job_last_run_success",
            "1 if the job's latest finished run succeeded, else 0",
            labels=["dagster_job"],
        )
        ended = GaugeMetricFamily(
            "importau_job_last_run_end_timestamp_seconds",
            "When the job's latest finished run ended",
            labels=["dagster_job"],
        )
        last_ok = GaugeMetricFamily(
            "importau_job_last_success_timestamp_seconds",
            "When the job's latest successful run ended",
            labels=["dagster_job"],
        )
        for job in snapshot.jobs:
            if job.last_duration is not None:
                duration.add_metric([job.job], job.last_duration)
            success.add_metric([job.job], 1.0 if job.last_status == "SUCCESS" else 0.0)
            ended.add_metric([job.job], job.last_end)
            if job.last_success_end is not None:
                last_ok.add_metric([job.job], job.last_success_end)
        runs = CounterMetricFamily(
            "importau_runs", "Finished runs in the instance by job and outcome", labels=["dagster_job", "status"]
        )
        for (job, status), count in sorted(snapshot.runs_total.items()):
            runs.add_metric([job, status], float(count))
        active = GaugeMetricFamily("importau_runs_active", "Runs queued or in progress now", labels=["status"])
        for status, count in sorted(snapshot.active.items()):
            active.add_metric([status], float(count))
        yield from (duration, success, ended, last_ok, runs, active)
