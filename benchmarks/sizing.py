"""Sizing model: cost per row and per partition of each stage, fitted on end_to_end.py runs, extrapolated.

    .venv/bin/python benchmarks/end_to_end.py --scales 1,0.3,3 --bcb-years 10 --json runs.json   # the measurement
    .venv/bin/python benchmarks/sizing.py benchmarks/sizing_data/end_to_end-2026-12-06.json      # the README tables

Reads one or more JSON files written by end_to_end.py (scenarios: the demo company's year at several scales, the
daily increment after it, a BCB backfill) and prints, as Markdown:
1. the fit of every stage: seconds = per_partition x partitions + per_row x rows (non-negative least squares over
   every successful run of that stage), and each observation with its residual, so the fit can be judged;
2. the peak memory of each run family: MB = base + per_row x rows;
3. the extrapolation to 10x, 100x and 1000x the demo company: a year's backfill and a normal day per stage, the
   warehouse's busy time per day, the peak memory, where the embedded default stops, and what a server or
   cluster needs instead.
A stage is a Dagster step (or a group of steps) of a run; its rows are the rows the run landed in raw for a source,
and the raw rows in the warehouse for the transform (which rebuilds every model from all of raw). Partitions are
the run's month partitions (the transform has none: one). Nothing is timed here; the numbers come from the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from scipy.optimize import nnls

SIZES = (10, 100, 1000)  # multiples of the demo company
BUSINESS_DAYS_PER_MONTH = 21
SOURCES = ("bcb", "open_finance", "erp")
MB = 1024 * 1024

# stage -> (run group, which steps, holds the warehouse, runs every day). The steps of a group that no stage names
# (asset checks) are its "<group> checks" stage; the "(...)" entries of end_to_end.py are not steps.
STAGES = {
    "bcb pull": ("bcb", lambda step: step.startswith("bcb_pull"), False, True),
    "bcb raw load": ("bcb", lambda step: step.startswith("bcb_raw_load"), True, True),
    "open finance pull": ("open_finance", lambda step: step.startswith("open_finance_pull"), False, True),
    "open finance raw load": (
        "open_finance",
        lambda step: step.startswith(("open_finance_raw_load", "raw__open_finance")),
        True,
        True,
    ),
    "erp file drop": ("erp", lambda step: step.startswith("erp_file_drop"), False, True),
    "erp raw load": ("erp", lambda step: step.startswith("erp_raw_load"), True, True),
    "dbt models + tests": ("transform", lambda step: step == "dbt_models", True, True),
    # the dbt models that read the ML scores (the recommendations), a step of their own after scoring
    "dbt after scoring": ("transform", lambda step: step.startswith("dbt_models_"), True, True),
    "ml training (weekly)": ("transform", lambda step: step.startswith("ml__") and "__model" in step, True, False),
    "ml scoring": ("transform", lambda step: step.startswith("ml__") and step.endswith("__scores"), True, True),
}
GROUPS = (*SOURCES, "transform")
RUN_CREATION = "(run creation: first event to RUN_START)"  # end_to_end.py's name: PLANNED events, run start

# Where the embedded default stops (one machine, chDB in-process, the `warehouse` pool at 1). Choices, said in the
# README: a normal day must be done within an hour of its schedules; a year's backfill overnight; the runs' memory
# must fit a 16 GB machine beside the OS; the warehouse is locked (no `importau sql`, no BI) while a warehouse step
# runs, which analysts stop tolerating past about an hour of the working day.
DAY_LIMIT_S = 3600
BACKFILL_LIMIT_S = 8 * 3600
MEMORY_LIMIT_MB = 16 * 1024
LOCKED_LIMIT_S = 3600


@dataclass
class Observation:
    scenario: str
    load: str
    partitions: int
    rows: int
    seconds: float


@dataclass
class Fit:
    stage: str
    per_partition: float
    per_row: float
    observations: list[Observation] = field(default_factory=list)

    def predict(self, partitions: float, rows: float) -> float:
        return self.per_partition * partitions + self.per_row * rows


def months(first: str | None, last: str | None) -> int:
    """Month partitions of a run (1 for an unpartitioned one)."""
    if not first or not last:
        return 1
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return (b.year - a.year) * 12 + b.month - a.month + 1


def load_runs(paths: list[Path]) -> list[dict]:
    """Every scenario of the JSON files (later files after earlier ones)."""
    scenarios = []
    for path in paths:
        scenarios += json.loads(path.read_text())["scenarios"]
    return scenarios


def warehouse_raw_rows(scenario: dict, scenarios: list[dict]) -> int:
    """Raw rows in the warehouse when the scenario's transform ran: its own source runs, plus its base year's
    for the daily increment (the same warehouse)."""
    own = sum(j.get("rows") or 0 for j in scenario["jobs"] if j["group"] in SOURCES and j["success"])
    if scenario.get("kind") == "daily":
        base = next((s for s in scenarios if s["name"] == scenario.get("base")), None)
        if base is None:  # the base year is the scale-1 scenario of the same file
            base = next((s for s in scenarios if s.get("kind") == "year" and s.get("scale") == 1), None)
        if base:
            own += sum(j.get("rows") or 0 for j in base["jobs"] if j["group"] in SOURCES and j["success"])
    return own


def stage_of(group: str, step: str) -> str:
    return next((name for name, spec in STAGES.items() if spec[0] == group and spec[1](step)), f"{group} checks")


def stage_steps(job: dict) -> dict[str, float]:
    """Seconds per stage of one run: its steps summed by STAGES, the rest in "<group> checks"."""
    seconds: dict[str, float] = {}
    for step, value in job.get("steps_s", {}).items():
        if not step.startswith("("):
            stage = stage_of(job["group"], step)
            seconds[stage] = seconds.get(stage, 0.0) + value
    if RUN_CREATION in job.get("steps_s", {}):
        seconds[f"{job['group']} run creation"] = job["steps_s"][RUN_CREATION]
    return seconds


def complete_stages(job: dict, expected: dict[str, set[str]]) -> dict[str, float]:
    """The stages of a run that ran all their steps. A failed run (the transform stops at the ML promotion gate on
    a fresh instance at some scales) still measured the stages before the failure; a stage with a step missing
    (skipped after it) is left out rather than counted short."""
    seconds = stage_steps(job)
    if job["success"]:
        return seconds
    ran: dict[str, set[str]] = {}
    for step in job.get("steps_s", {}):
        if not step.startswith("("):
            ran.setdefault(stage_of(job["group"], step), set()).add(step)
    return {
        stage: value
        for stage, value in seconds.items()
        if stage.endswith("run creation") or (stage in expected and ran.get(stage, set()) >= expected[stage])
    }


def stage_info(stage: str) -> tuple[str, bool, bool]:
    """(group, holds the warehouse, runs every day) of a stage, the derived ones included."""
    if stage in STAGES:
        group, _, holds, daily = STAGES[stage]
        return group, holds, daily
    group = stage.rsplit(" ", 2)[0] if stage.endswith("run creation") else stage.rsplit(" ", 1)[0]
    # checks of raw and dbt tables query the warehouse; creating a run does not
    return group, stage.endswith("checks"), True


def observations(scenarios: list[dict]) -> dict[str, list[Observation]]:
    """Per stage, one observation per successful run that has the stage."""
    expected: dict[str, dict[str, set[str]]] = {}  # job -> stage -> its steps in a successful run
    for scenario in scenarios:
        for job in scenario["jobs"]:
            if job["success"]:
                for step in job.get("steps_s", {}):
                    if not step.startswith("("):
                        stage = stage_of(job["group"], step)
                        expected.setdefault(job["job"], {}).setdefault(stage, set()).add(step)
    found: dict[str, list[Observation]] = {}
    for scenario in scenarios:
        for job in scenario["jobs"]:
            if job["group"] == "transform":
                rows, partitions = warehouse_raw_rows(scenario, scenarios), 1
            else:
                rows, partitions = job.get("rows") or 0, months(job.get("first"), job.get("last"))
            load = f"{job['load'].split()[0]} -> {job['load'].split()[-3]}"
            failed = "" if job["success"] else " (run failed later)"
            for stage, seconds in complete_stages(job, expected.get(job["job"], {})).items():
                seen = Observation(scenario["name"] + failed, load, partitions, rows, seconds)
                found.setdefault(stage, []).append(seen)
    return found


def fit(stage: str, seen: list[Observation]) -> Fit:
    """Non-negative least squares: seconds = per_partition x partitions + per_row x rows."""
    a = np.array([[o.partitions, o.rows] for o in seen], dtype=float)
    y = np.array([o.seconds for o in seen], dtype=float)
    scale = a.max(axis=0)
    scale[scale == 0] = 1
    coef, _ = nnls(a / scale, y)  # columns scaled so both weigh alike in the solver
    coef = coef / scale
    return Fit(stage, float(coef[0]), float(coef[1]), seen)


def memory_fit(scenarios: list[dict]) -> dict[str, tuple[float, float, list[tuple[str, int, float]]]]:
    """Per run group: peak MB = base + per_row x rows (least squares, both non-negative)."""
    points: dict[str, list[tuple[str, int, float]]] = {}
    for scenario in scenarios:
        for job in scenario["jobs"]:
            # a transform that failed at the promotion gate ran its dbt models and training: its peak counts
            ran_dbt = job["group"] == "transform" and "dbt_models" in job.get("steps_s", {})
            if job["success"] or ran_dbt:
                rows = warehouse_raw_rows(scenario, scenarios) if job["group"] == "transform" else job.get("rows") or 0
                name = scenario["name"] + ("" if job["success"] else " (run failed later)")
                points.setdefault(job["group"], []).append((name, rows, job["peak_rss"] / MB))
    fits = {}
    for group, seen in points.items():
        a = np.array([[1.0, r] for _, r, _ in seen])
        y = np.array([m for _, _, m in seen])
        scale = a.max(axis=0)
        scale[scale == 0] = 1
        coef, _ = nnls(a / scale, y)
        coef = coef / scale
        fits[group] = (float(coef[0]), float(coef[1]), seen)
    return fits


@dataclass
class Company:
    """Rows of one year and of one normal day per source, per unit of demo scale (measured)."""

    year_rows: dict[str, float]  # per unit of scale (BCB: absolute, market data does not grow with the company)
    day_rows: dict[str, float]
    year_partitions: dict[str, int]


def company_rows(scenarios: list[dict]) -> Company:
    year_rows, day_rows, parts = {}, {}, {}
    for source in SOURCES:
        per_scale = []
        for scenario in scenarios:
            if scenario.get("kind") != "year":
                continue
            for job in scenario["jobs"]:
                if job["group"] == source and job["success"]:
                    parts[source] = months(job.get("first"), job.get("last"))
                    rows = job.get("rows") or 0
                    per_scale.append(rows if source == "bcb" else rows / scenario["scale"])
        year_rows[source] = sum(per_scale) / len(per_scale) if per_scale else 0.0
        daily = [
            j.get("rows") or 0
            for s in scenarios
            if s.get("kind") == "daily"
            for j in s["jobs"]
            if j["group"] == source and j["success"]
        ]
        # A normal day's rows at scale 1 (BCB: absolute): what the daily scenario landed, but at least one business
        # day's share of the year (the benchmark's day after the demo has no BCB recording and no ERP export, so it
        # lands 0 rows for them; a real day does not). Open Finance lands more: each pull re-reads a 7-day window.
        one_day = year_rows[source] / (parts.get(source, 12) * BUSINESS_DAYS_PER_MONTH)
        day_rows[source] = max((sum(daily) / len(daily)) if daily else 0.0, one_day)
    return Company(year_rows, day_rows, parts)


def fmt_s(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:,.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:,.0f} min"
    return f"{seconds / 3600:,.1f} h"


def fit_table(fits: list[Fit]) -> str:
    lines = [
        "| stage | per partition s | per 1,000 rows s | scenario | partitions | rows | measured s | fitted s | "
        "residual s | load (1 min) |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in fits:
        for i, o in enumerate(f.observations):
            predicted = f.predict(o.partitions, o.rows)
            head = f"| {f.stage} | {f.per_partition:.3f} | {f.per_row * 1000:.3f} |" if i == 0 else "| | | |"
            lines.append(
                f"{head} {o.scenario} | {o.partitions} | {o.rows:,} | {o.seconds:.1f} | {predicted:.1f} | "
                f"{o.seconds - predicted:+.1f} | {o.load} |"
            )
    return "\n".join(lines)


def coefficient_table(fits: list[Fit]) -> str:
    """One line per stage: the two costs, how many runs they rest on and the largest miss."""
    lines = [
        "| stage | per partition s | per 1,000 rows s | runs | largest residual s |",
        "|---|---:|---:|---:|---:|",
    ]
    for f in fits:
        worst = max(f.observations, key=lambda o: abs(o.seconds - f.predict(o.partitions, o.rows)))
        miss = worst.seconds - f.predict(worst.partitions, worst.rows)
        lines.append(
            f"| {f.stage} | {f.per_partition:.3f} | {f.per_row * 1000:.3f} | {len(f.observations)} | "
            f"{miss:+.1f} ({worst.scenario}) |"
        )
    return "\n".join(lines)


def memory_table(fits: dict) -> str:
    lines = [
        "| run | base MB | MB per 1,000 rows | scenario | rows | peak RSS MB | fitted MB |",
        "|---|---:|---:|---|---:|---:|---:|",
    ]
    for group, (base, per_row, seen) in fits.items():
        for i, (name, rows, mb) in enumerate(seen):
            head = f"| {group} | {base:,.0f} | {per_row * 1000:.2f} |" if i == 0 else "| | | |"
            lines.append(f"{head} {name} | {rows:,} | {mb:,.0f} | {base + per_row * rows:,.0f} |")
    return "\n".join(lines)


def size_rows(company: Company, size: float) -> tuple[dict[str, float], dict[str, float]]:
    year = {s: company.year_rows[s] * (1 if s == "bcb" else size) for s in SOURCES}
    day = {s: company.day_rows[s] * (1 if s == "bcb" else size) for s in SOURCES}
    return year, day


def extrapolate(fits: dict[str, Fit], memory: dict, company: Company, size: float) -> dict:
    """A year's backfill and a normal day at `size` x the demo company, per stage. The transform rebuilds every
    model from all of raw, so its rows are the year's raw rows both for the backfill and for the day after it."""
    year, day = size_rows(company, size)
    raw_after_year = sum(year.values())
    out = {"year": {}, "day": {}, "warehouse_day_s": 0.0, "memory_mb": {}, "raw_rows": raw_after_year}
    for stage, f in fits.items():
        group, holds_warehouse, daily = stage_info(stage)
        if group == "transform":
            year_s = day_s = f.predict(1, raw_after_year)
        else:
            year_s = f.predict(company.year_partitions.get(group, 12), year[group])
            day_s = f.predict(1, day[group])
        out["year"][stage] = year_s
        if daily:
            out["day"][stage] = day_s
            if holds_warehouse:
                out["warehouse_day_s"] += day_s
    out["day_memory_mb"] = {}
    for group in GROUPS:
        if group in memory:
            base, per_row, _ = memory[group]
            out["memory_mb"][group] = base + per_row * (raw_after_year if group == "transform" else year[group])
            out["day_memory_mb"][group] = base + per_row * (raw_after_year if group == "transform" else day[group])
    return out


def limits(result: dict) -> list[str]:
    stops = []
    day_s, year_s = sum(result["day"].values()), sum(result["year"].values())
    if day_s > DAY_LIMIT_S:
        stops.append(f"time: a normal day takes {fmt_s(day_s)} (> {fmt_s(DAY_LIMIT_S)})")
    if year_s > BACKFILL_LIMIT_S:
        stops.append(f"time: a year's backfill takes {fmt_s(year_s)} (> {fmt_s(BACKFILL_LIMIT_S)})")
    peak = max(result["memory_mb"].values()) if result["memory_mb"] else 0
    if peak > MEMORY_LIMIT_MB:
        stops.append(f"memory: a run peaks at {peak / 1024:,.1f} GB (> {MEMORY_LIMIT_MB / 1024:.0f} GB)")
    if result["warehouse_day_s"] > LOCKED_LIMIT_S:
        stops.append(
            f"lock: the warehouse is held {fmt_s(result['warehouse_day_s'])} a day (> {fmt_s(LOCKED_LIMIT_S)})"
        )
    return stops


def server_needs(result: dict) -> str:
    """What replaces the embedded default at this size, from the extrapolated numbers (README "Scale out" says why).

    The day's SQL (dbt, scoring) was measured on 2 shared cores; a server with N cores does it about N/2 times
    faster at best, and the day's transform should take 15 minutes: N = 2 x SQL seconds / 900, a power of two, at
    least 4. Past 32 cores, shards of 32 cores (2 replicas each). Run pods: 1.5 x a normal day's peak (the measured
    RSS holds the embedded engine too: an upper bound for a pod that talks to a server)."""
    sql_day = sum(result["day"].get(stage, 0) for stage in ("dbt models + tests", "dbt after scoring", "ml scoring"))
    cores = max(4, 2 ** math.ceil(math.log2(max(1.0, 2 * sql_day / 900))))
    pod_gib = max(2, 2 ** math.ceil(math.log2(max(1.0, 1.5 * max(result["day_memory_mb"].values()) / 1024))))
    if cores <= 32:
        return f"one ClickHouse server of ~{cores} cores, `warehouse` pool {cores // 2}; run pods {pod_gib} GiB"
    return (
        f"ClickHouse cluster of {math.ceil(cores / 32)} shards x 2 replicas (32 cores each), `warehouse` pool 16; "
        f"Kubernetes run pods {pod_gib} GiB"
    )


def sizing_table(fits: dict[str, Fit], memory: dict, company: Company) -> str:
    lines = [
        "| size (x demo) | raw rows / year | year backfill | normal day | warehouse held / day | peak run memory | "
        "embedded default | server / cluster needs |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for size in (1, *SIZES):
        r = extrapolate(fits, memory, company, size)
        stops = limits(r)
        peak = max(r["memory_mb"].values()) if r["memory_mb"] else 0
        lines.append(
            f"| {size:g} | {r['raw_rows']:,.0f} | {fmt_s(sum(r['year'].values()))} | {fmt_s(sum(r['day'].values()))} | "
            f"{fmt_s(r['warehouse_day_s'])} | {peak / 1024:,.1f} GB | "
            f"{'; '.join(stops) if stops else 'fits'} | {server_needs(r) if stops else 'not needed'} |"
        )
    return "\n".join(lines)


def stage_table(fits: dict[str, Fit], company: Company) -> str:
    sizes = (1, *SIZES)
    lines = ["| stage | " + " | ".join(f"{s}x: year / day" for s in sizes) + " |", "|---|" + "---:|" * len(sizes)]
    results = {size: extrapolate(fits, {}, company, size) for size in sizes}
    for stage in results[1]["year"]:
        cells = []
        for s in sizes:
            day = results[s]["day"].get(stage)
            cells.append(f"{fmt_s(results[s]['year'][stage])} / {fmt_s(day) if day is not None else 'weekly'}")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("json", nargs="+", type=Path, help="end_to_end.py --json outputs")
    args = parser.parse_args(argv)
    scenarios = load_runs(args.json)
    fits = {stage: fit(stage, seen) for stage, seen in observations(scenarios).items()}
    memory = memory_fit(scenarios)
    company = company_rows(scenarios)
    print("Fit per stage: seconds = per_partition x partitions + per_row x rows (non-negative least squares)\n")
    print(coefficient_table(list(fits.values())))
    print("\nEvery observation, fitted and residual:\n")
    print(fit_table(list(fits.values())))
    print("\nPeak memory per run (driver + dbt processes, RSS): MB = base + per_row x rows\n")
    print(memory_table(memory))
    rows = ", ".join(f"{s} {company.year_rows[s]:,.0f}" for s in SOURCES)
    day = ", ".join(f"{s} {company.day_rows[s]:,.0f}" for s in SOURCES)
    print(
        f"\nDemo company (scale 1): raw rows a year {rows} (BCB does not grow with the company); a normal day {day}\n"
    )
    print(stage_table(fits, company))
    print()
    print(sizing_table(fits, memory, company))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
