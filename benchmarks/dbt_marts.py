"""Benchmark: the full dbt build of the project on the demo company, at two scale factors, against running the
compiled SQL of the same models directly on the same chDB engine.

For each scale factor (untimed set-up: `tests/marts/demo_warehouse.py` loads BCB + ERP + Open Finance raw into a
fresh folder), in ONE worker process per scale (chDB hosts one engine folder per process, so each scale gets its
own), on that process's chDB engine:
  build     `importau-dbt build` (seeds, every model, data tests, unit tests: what CI runs), dbt in-process;
  build_prod `importau-dbt build --exclude-resource-type unit_test` (what Dagster runs outside CI);
  run       `importau-dbt run` (the models only; they exist, so dbt replaces them as it would in production);
  direct    baseline: every model's compiled SQL from dbt's manifest, in dependency order, as plain
            `CREATE OR REPLACE VIEW ... AS <sql>` / `CREATE OR REPLACE TABLE ... ENGINE = MergeTree ORDER BY
            <the model's order_by> AS <sql>` statements through one clickhouse-connect chDB client.
Ratios: build / direct and run / direct (1.0 = dbt adds nothing). Best of --repeat per stage. Each scale also
prints the load average around it and, from the last `build`'s run_results.json, the thread seconds per resource
type and the slowest nodes. `--project-dir` times another copy of the project (e.g. an older commit:
`git archive <commit> dbt_project | tar -x -C /tmp/old`) on the same data.

    .venv/bin/python benchmarks/dbt_marts.py --scales 1 3 --repeat 2
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
PROJECT = REPO / "dbt_project"
TOP_NODES = 8


def load(data_dir: Path, scale: float) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLICKHOUSE_", "IMPORTAU_", "DBT_", "APP_ENV"))}
    env.update(IMPORTAU_DATA_DIR=str(data_dir), APP_ENV="ci", PYTHONPATH=str(REPO))
    script = REPO / "tests" / "marts" / "demo_warehouse.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(data_dir), "--scale", str(scale)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise SystemExit(f"loading the demo company failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def dbt(project: Path, *args: str) -> float:
    from orchestration import dbt_chdb

    started = time.perf_counter()
    code = dbt_chdb.main([*args, "--target", "ci", "--project-dir", str(project), "--profiles-dir", str(project)])
    seconds = time.perf_counter() - started
    if code != 0:
        raise SystemExit(f"importau-dbt {' '.join(args)} exited {code}")
    return seconds


def compiled_models(target: Path) -> list[dict]:
    """Models of the manifest in dependency order, with their compiled SQL (from target/compiled)."""
    manifest = json.loads((target / "manifest.json").read_text())
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}
    ordered, seen = [], set()

    def visit(uid: str) -> None:
        if uid in seen or uid not in nodes:
            return
        seen.add(uid)
        for parent in nodes[uid]["depends_on"]["nodes"]:
            visit(parent)
        ordered.append(nodes[uid])

    for uid in sorted(nodes):
        visit(uid)
    models = []
    for node in ordered:
        compiled = target / "compiled" / node["package_name"] / node["original_file_path"]
        order_by = node["config"].get("order_by") or "tuple()"
        if isinstance(order_by, list):
            order_by = "(" + ", ".join(order_by) + ")"
        models.append(
            {
                "relation": f"`{node['schema']}`.`{node['alias'] or node['name']}`",
                "materialized": node["config"]["materialized"],
                "order_by": order_by,
                "sql": compiled.read_text(),
            }
        )
    return models


def build_profile(target: Path) -> dict:
    """Thread seconds per resource type and the slowest nodes of the last dbt command (its run_results.json)."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    per_type: dict[str, float] = {}
    for result in results:
        kind = result["unique_id"].split(".")[0]
        per_type[kind] = per_type.get(kind, 0.0) + result["execution_time"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:TOP_NODES]
    return {
        "thread_s": {kind: round(seconds, 1) for kind, seconds in sorted(per_type.items())},
        "slowest": [[round(r["execution_time"], 2), r["unique_id"]] for r in slowest],
    }


def direct(chdb_path: Path, models: list[dict]) -> float:
    import clickhouse_connect

    client = clickhouse_connect.get_client(interface="chdb", path=str(chdb_path))
    try:
        started = time.perf_counter()
        for model in models:
            if model["materialized"] in {"view", "ephemeral"}:
                client.command(f"CREATE OR REPLACE VIEW {model['relation']} AS {model['sql']}")
            else:
                client.command(
                    f"CREATE OR REPLACE TABLE {model['relation']} ENGINE = MergeTree ORDER BY {model['order_by']} "
                    f"AS {model['sql']}"
                )
        return time.perf_counter() - started
    finally:
        client.close()


def mart_rows(chdb_path: Path) -> int:
    import clickhouse_connect

    client = clickhouse_connect.get_client(interface="chdb", path=str(chdb_path))
    try:
        return int(client.command("SELECT sum(total_rows) FROM system.tables WHERE database = 'marts'") or 0)
    finally:
        client.close()


def bench(scale: float, repeat: int, workdir: Path, project: Path) -> dict:
    data_dir = workdir / f"scale_{scale}"
    loaded = load(data_dir, scale)
    os.environ.update(
        IMPORTAU_DATA_DIR=str(data_dir),
        APP_ENV="ci",
        DBT_TARGET_PATH=str(data_dir / "dbt_target"),
        DBT_LOG_PATH=str(data_dir / "dbt_logs"),
        DBT_USE_COLORS="false",
        DBT_QUIET="true",
    )
    load_before = loadavg()
    build = min(dbt(project, "build") for _ in range(repeat))
    profile = build_profile(data_dir / "dbt_target")
    build_prod = min(dbt(project, "build", "--exclude-resource-type", "unit_test") for _ in range(repeat))
    run = min(dbt(project, "run") for _ in range(repeat))
    models = compiled_models(data_dir / "dbt_target")
    baseline = min(direct(data_dir / "warehouse", models) for _ in range(repeat))
    raw_rows = sum(loaded["counts"].values())
    return {
        "scale": scale,
        "raw_rows": raw_rows,
        "models": len(models),
        "mart_rows": mart_rows(data_dir / "warehouse"),
        "build_s": build,
        "build_prod_s": build_prod,
        "run_s": run,
        "direct_s": baseline,
        "load": f"{load_before} -> {loadavg()}",
        "build_profile": profile,
    }


def worker(scale: float, repeat: int, workdir: Path, project: Path) -> dict:
    """Run one scale in a child process and return its measurements."""
    command = [sys.executable, __file__, "--worker", str(scale), "--repeat", str(repeat), "--workdir", str(workdir)]
    completed = subprocess.run(
        [*command, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode:
        raise SystemExit(f"scale {scale} failed:\n{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--project-dir", type=Path, default=PROJECT, help="the dbt project to time (default: ours)")
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    project = args.project_dir.resolve()
    if args.worker is not None:
        print(json.dumps(bench(args.worker, args.repeat, args.workdir, project)))
        return
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, best of {args.repeat}, project {project}")
    with tempfile.TemporaryDirectory(prefix="importau-bench-dbt-") as tmp:
        rows = [worker(scale, args.repeat, Path(tmp), project) for scale in args.scales]
    for r in rows:
        print(f"scale {r['scale']:g}: load average {r['load']}; last build, thread s {r['build_profile']['thread_s']}")
        for seconds, node in r["build_profile"]["slowest"]:
            print(f"    {seconds:6.2f} s  {node}")
    columns = ["scale", "raw rows", "models", "mart rows", "dbt build s", "build w/o unit tests s", "dbt run s"]
    columns += ["direct SQL s", "build/direct", "build w/o unit/direct", "run/direct"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for r in rows:
        direct_s = r["direct_s"]
        print(
            f"| {r['scale']:g} | {r['raw_rows']:,} | {r['models']} | {r['mart_rows']:,} | {r['build_s']:.1f} "
            f"| {r['build_prod_s']:.1f} | {r['run_s']:.1f} | {direct_s:.2f} | {r['build_s'] / direct_s:.1f}x "
            f"| {r['build_prod_s'] / direct_s:.1f}x | {r['run_s'] / direct_s:.1f}x |"
        )


if __name__ == "__main__":
    main()
