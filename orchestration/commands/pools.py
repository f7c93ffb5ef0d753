"""`importau pools`: who holds the slots of each concurrency pool, and a WARNING for every slot a dead run holds.

A run worker killed mid-step (kill -9, the OOM killer, a redeploy) never releases its `warehouse` slot, and every
later warehouse step waits for it. On the deployed instance the daemon's run monitoring frees the slots of ended
runs (`free_slots_after_run_end_seconds` in dagster.yaml), but not of a run still marked STARTED whose worker died
with its code server, and the local instance has no such loop. This command names those slots, the run holding
each and what frees it; `--free RUN_ID` frees them. Run it where the runs run: whether a STARTED run's worker is
alive is read from this machine's processes (the pid its run recorded).
"""

import argparse
import dataclasses
import logging
import os
import sys

LOG = logging.getLogger("importau.pools")
FREE_COMMAND = "importau pools --free {run_id}"


@dataclasses.dataclass(frozen=True)
class StaleSlot:
    pool: str
    run_id: str
    step_key: str
    state: str  # why the run will not release it, for the operator
    ended: bool  # the run ended (the deployed daemon frees such slots by itself); False: deleted or worker gone


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pools",
        help="show who holds the concurrency pools' slots; warn about slots held by dead runs",
        description="Reads the Dagster instance of DAGSTER_HOME (default: the embedded one under IMPORTAU_DATA_DIR).",
    )
    parser.add_argument("--free", metavar="RUN_ID", help="free the slots of this run (ended, or its worker is gone)")
    parser.set_defaults(handler=run)


def worker_pid(instance, run_id: str) -> int | None:
    """The pid of the run's worker: the last run-level engine event that recorded one."""
    from dagster import DagsterEventType

    pids = []
    for entry in instance.all_logs(run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data
        if entry.dagster_event.step_key is None and data is not None and "pid" in data.metadata:
            pids.append(int(data.metadata["pid"].value))
    return pids[-1] if pids else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: it exists
        return True
    return True


def dead_run_state(instance, run_id: str) -> str | None:
    """Why the run can no longer release its slots (deleted, ended, worker gone), or None if it may still."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return "deleted"
    if run.is_finished:
        return run.status.value
    pid = worker_pid(instance, run_id)
    if pid is not None and not _alive(pid):
        return f"{run.status.value}, but its worker (pid {pid}) is not running on this machine"
    return None


def stale_slots(instance) -> list[StaleSlot]:
    """The claimed slots of every pool whose run can no longer release them, with a log line per pool."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    free_after = instance.run_monitoring_enabled and instance.run_monitoring_settings.get(
        "free_slots_after_run_end_seconds"
    )
    stale = []
    for pool in sorted(storage.get_concurrency_keys()):
        info = storage.get_concurrency_info(pool)
        holders = [(slot, dead_run_state(instance, slot.run_id)) for slot in info.claimed_slots]
        LOG.info(
            "pool %s: %d of %s slots held (%s), %d steps waiting",
            pool,
            len(holders),
            info.slot_count,
            ", ".join(f"run {slot.run_id} step {slot.step_key}" for slot, _ in holders) or "none",
            info.pending_step_count,
        )
        for slot, state in holders:
            if state is None:
                continue
            run = instance.get_run_by_id(slot.run_id)
            ended = run is not None and run.is_finished
            stale.append(StaleSlot(pool, slot.run_id, slot.step_key, state, ended))
            LOG.warning(
                "pool %s: a slot is held by run %s (step %s), which is %s: the run will never release it%s. Free it "
                "with `%s` (or in the UI: the run's page, ..., Free concurrency slots)",
                pool,
                slot.run_id,
                slot.step_key,
                state,
                f" (where dagster-daemon runs, its run monitoring frees it {free_after} s after the run ended)"
                if free_after and ended
                else "",
                FREE_COMMAND.format(run_id=slot.run_id),
            )
        dead = sum(state is not None for _, state in holders)
        if info.pending_step_count and info.slot_count and dead >= info.slot_count:
            LOG.warning(
                "pool %s: runs %s wait for a slot, and all %d slots are held by dead runs: free them (above)",
                pool,
                ", ".join(sorted(info.pending_run_ids)),
                info.slot_count,
            )
    return stale


def free_slots(instance, run_id: str) -> bool:
    """Free the run's slots if it can no longer release them itself (a STARTED run with no worker is failed first)."""
    state = dead_run_state(instance, run_id)
    if state is None:
        LOG.error("run %s may still be running (its worker is alive or unknown here): its slots stay", run_id)
        return False
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        instance.report_run_failed(run, f"Marked failed by `importau pools --free`: {state}.")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)
    LOG.warning("freed the concurrency slots of run %s (%s)", run_id, state)
    return True


def run(args: argparse.Namespace) -> int:
    from dagster import DagsterInstance

    from orchestration.resources.settings import resolve_data_dir

    if not LOG.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        LOG.addHandler(handler)
        LOG.setLevel(logging.INFO)
    if not os.environ.get("DAGSTER_HOME"):
        os.environ["DAGSTER_HOME"] = os.path.join(resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR")), "dagster_home")
    if not os.path.isdir(os.environ["DAGSTER_HOME"]):
        print(f"importau pools: no Dagster instance at {os.environ['DAGSTER_HOME']} (DAGSTER_HOME)", file=sys.stderr)
        return 1
    with DagsterInstance.get() as instance:
        if args.free:
            return 0 if free_slots(instance, args.free) else 1
        stale_slots(instance)
    return 0
