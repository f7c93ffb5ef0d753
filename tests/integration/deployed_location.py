"""A test-only code location for tests/integration/test_deployed_instance.py (not collected: no `test_` prefix).

The real `orchestration` location would cost minutes here: every run worker imports all of its definitions (the dbt
manifest included) and a warehouse step needs the lake and chDB. The instance behaviour under test (PostgreSQL
storage, the run queue, the `warehouse` pool, run monitoring, run retries) does not depend on what a step does, so
this location keeps what matters and nothing else: one asset in the real `warehouse` pool, the project's executor
(steps run in the run worker's process, so killing the worker kills the step), and a sensor that starts a run
whenever none of its job is queued or in progress.

The asset writes its process id to `<gate folder>/<run id>.pid`, then waits (bounded) until `<gate folder>/open`
exists, so the test can kill a run that holds a `warehouse` slot, then let the later runs finish at once.
"""

import os
import time
from pathlib import Path

import dagster as dg

from orchestration.constants import WAREHOUSE_POOL

GATE_ENV = "IMPORTAU_TEST_GATE_DIR"
GATE_WAIT_S = 240  # longer than the test's own bounds, so a run never finishes by itself while the test waits
MAX_SENSOR_RUNS = 2  # the run the test kills, then the next tick's run; no more, so nothing runs on while it stops
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class Gate(dg.ConfigurableResource):
    """A folder the test controls: a run records its pid there and waits for the file `open`."""

    folder: str

    def wait(self, run_id: str) -> float:
        folder = Path(self.folder)
        (folder / f"{run_id}.pid").write_text(str(os.getpid()))
        started = time.monotonic()
        while not (folder / "open").exists():
            if time.monotonic() - started > GATE_WAIT_S:
                raise RuntimeError(f"{folder / 'open'} did not appear within {GATE_WAIT_S} s")
            time.sleep(0.2)
        return time.monotonic() - started


@dg.asset(pool=WAREHOUSE_POOL)
def warehouse_probe(context: dg.AssetExecutionContext, gate: Gate) -> dg.MaterializeResult:
    """Holds a `warehouse` pool slot until the test opens the gate."""
    return dg.MaterializeResult(metadata={"waited_s": gate.wait(context.run_id)})


probe_job = dg.define_asset_job("warehouse_probe_job", selection=[warehouse_probe])


@dg.sensor(job=probe_job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def warehouse_probe_sensor(context: dg.SensorEvaluationContext):
    launched = int(context.cursor or 0)
    if launched >= MAX_SENSOR_RUNS:
        return dg.SkipReason(f"{launched} runs launched, the most this test needs")
    active = context.instance.get_run_records(
        dg.RunsFilter(job_name=probe_job.name, statuses=ACTIVE),
        limit=1,
    )
    if active:
        return dg.SkipReason(f"run {active[0].dagster_run.run_id} is {active[0].dagster_run.status.value}")
    context.update_cursor(str(launched + 1))
    return dg.RunRequest(run_key=f"tick-{launched + 1}")


defs = dg.Definitions(
    assets=[warehouse_probe],
    jobs=[probe_job],
    sensors=[warehouse_probe_sensor],
    resources={"gate": Gate(folder=dg.EnvVar(GATE_ENV))},
    executor=dg.in_process_executor,
)
