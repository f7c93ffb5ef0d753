"""The process that runs `importau soak`'s Dagster runs, one after another, so that a fault can SIGKILL it mid-run.

    python -m orchestration.commands.soak_worker     (started by soak_world.Phase, never by hand)

It reads one JSON command per line on stdin and answers one JSON line on the stdout it was started with (its own
fd 1 and 2 then point at its log, where Dagster's console logger and dbt write):
    {"op": "run", "job": "ingest_erp", "tags": {...}, "env": {"IMPORTAU_TODAY": "2024-11-04", "X": null}}
        -> {"success": true, "run_id": "...", "seconds": 12.3}     (env: set, or unset when null, before the run)
    {"op": "checksums", "databases": ["marts"], "exclude": [...]} -> {"tables": {"marts.t": {...}}}
    {"op": "query", "sql": "SELECT ..."} -> {"rows": [["text", ...], ...]}
    {"op": "promote"} -> {"promoted": ["transaction_anomaly v1"]}   (champion := challenger where there is none)
The runs go through `demo.run_job` (execute_job on the instance of DAGSTER_HOME, steps in this process), as
`importau demo` and the benchmarks run them; the definitions are imported once, at start.
"""

import json
import os
import sys
import time
import traceback


def table_checksums(databases: list[str], exclude: list[str]) -> dict[str, dict]:
    """Per table of `databases`: rows, and the XOR and the sum of cityHash64 over each row's columns, without the
    `exclude`d columns (stamps that legitimately differ between two runs of the same days)."""
    from ingestion.common.warehouse import open_warehouse
    from orchestration.resources.settings import resolve_data_dir

    found: dict[str, dict] = {}
    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    with open_warehouse(os.environ.get("CLICKHOUSE_URL") or None, data_dir, owner="importau soak checksums") as wh:
        listed = wh.query_rows(
            "SELECT database, table, groupArray(name) FROM (SELECT database, table, name FROM system.columns "
            "WHERE database IN {dbs:Array(String)} ORDER BY database, table, position) GROUP BY database, table "
            "ORDER BY database, table",
            parameters={"dbs": databases},
        )
        for database, table, columns in listed:
            kept = [c for c in columns if c not in exclude]
            # The row as text: cityHash64 of columns is NULL when any of them is NULL, and the aggregates skip
            # NULLs, so a table whose every row has a NULL somewhere was compared by its row count alone.
            hashed = "cityHash64(toString(tuple(" + ", ".join(f"`{c}`" for c in kept) + ")))"
            rows, xor, total = wh.query_rows(
                f"SELECT count(), toString(groupBitXor({hashed})), toString(sum({hashed})) FROM `{database}`.`{table}`"
            )[0]
            found[f"{database}.{table}"] = {
                "rows": int(rows),
                "xor": xor,
                "sum": total,
                "excluded": sorted(set(columns) - set(kept)),
            }
    return found


def query_rows(sql: str) -> list[list]:
    from ingestion.common.warehouse import open_warehouse
    from orchestration.resources.settings import resolve_data_dir

    data_dir = resolve_data_dir(os.environ.get("IMPORTAU_DATA_DIR"))
    with open_warehouse(os.environ.get("CLICKHOUSE_URL") or None, data_dir, owner="importau soak query") as wh:
        return [[str(value) for value in row] for row in wh.query_rows(sql)]


def promote_missing_champions() -> list[str]:
    """Alias `champion` to the challenger of every model that has no champion; returns 'model vN' of each."""
    from mlflow import MlflowClient

    from ml_assets.common import registry
    from orchestration.defs.ml import SPECS
    from orchestration.resources.mlflow import MLflowResource

    MLflowResource(
        tracking_uri=os.environ.get("MLFLOW_TRACKING_URI", ""), data_dir=os.environ["IMPORTAU_DATA_DIR"]
    ).configure()
    client, promoted = MlflowClient(), []
    for spec in SPECS:
        if registry.version_by_alias(spec.name, registry.CHAMPION, client) is None:
            challenger = registry.version_by_alias(spec.name, registry.CHALLENGER, client)
            if challenger is not None:
                client.set_registered_model_alias(spec.name, registry.CHAMPION, challenger.version)
                promoted.append(f"{spec.name} v{challenger.version}")
    return promoted


def main() -> int:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything printed goes to the log (the driver's stderr file), never into the answers
    sys.stdout = sys.stderr
    from orchestration.commands import demo

    demo.job_named("transform_daily")  # import the definitions (and parse nothing) before the first command
    answers.write(json.dumps({"ready": os.getpid()}) + "\n")
    for line in sys.stdin:
        command = json.loads(line)
        started = time.monotonic()
        try:
            if command["op"] == "run":
                for name, value in (command.get("env") or {}).items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = str(value)
                print(f"=== soak worker: {command['job']} {command.get('tags')}", file=sys.stderr, flush=True)
                success, run_id = demo.run_job(command["job"], command.get("tags") or {})
                answer = {"success": success, "run_id": run_id}
            elif command["op"] == "promote":
                answer = {"promoted": promote_missing_champions()}
            elif command["op"] == "query":
                answer = {"rows": query_rows(command["sql"])}
            elif command["op"] == "checksums":
                answer = {"tables": table_checksums(command["databases"], command.get("exclude") or [])}
            else:
                answer = {"error": f"unknown op {command['op']!r}"}
        except Exception as error:  # noqa: BLE001 - the driver reports it
            traceback.print_exc()
            answer = {"success": False, "run_id": None, "error": f"{type(error).__name__}: {error}"[:2000]}
        answer["seconds"] = round(time.monotonic() - started, 2)
        answers.write(json.dumps(answer) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
