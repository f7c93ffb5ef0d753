"""dbt's FQN selection memoised per process (orchestration/dbt_selection.py) selects exactly what dbt's own does.

One real dbt process (`dbt ls` on the project, target `ci`) lists a selection shaped like a Dagster subset (one FQN
per model, minus the marts, plus a folder prefix and a wildcard, an exclude of names) first with dbt's own
search, then with the memo; the two lists of unique ids must be equal, and the memo must have been used.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from orchestration.dbt_manifest import DBT_PROJECT_DIR, seed_partial_parse

REPO_ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from orchestration import dbt_chdb
    from orchestration.dbt_selection import MEMO_FLAG, memoise_fqn_selection

    args, parse_args = json.loads(sys.argv[1])
    dbt_chdb._apply_environment()
    dbt_chdb.install()
    from dbt.cli.main import dbtRunner
    from dbt.graph.selector_methods import QualifiedNameSelectorMethod

    def listed():
        result = dbtRunner().invoke(args)
        assert result.success, result.exception
        return sorted(json.loads(line)["unique_id"] for line in result.result)

    own = listed()
    original = QualifiedNameSelectorMethod.search
    memoise_fqn_selection()
    assert getattr(QualifiedNameSelectorMethod.search, MEMO_FLAG)
    memoised = listed()

    # and asked about a part of the project only (as `dbt build` asks without the unit tests): the same answer
    parsed = dbtRunner().invoke(parse_args)
    assert parsed.success, parsed.exception
    manifest = parsed.result
    method = QualifiedNameSelectorMethod(manifest, None, [])
    some = {uid for uid in manifest.nodes if hash(uid) % 3}
    for selector in ("importau.staging", "stg_bank__*", "fct_recommendations", "importau.intermediate.treasury"):
        assert set(method.search(some, selector)) == set(original(method, some, selector)), selector
        assert set(method.search(some, selector)) <= some
    print(json.dumps({"own": own, "memoised": memoised}))
    """
)


def test_the_memoised_fqn_search_selects_what_dbts_own_does(tmp_path):
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    models = [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")]
    subset = [".".join(node["fqn"]) for node in models if node["fqn"][1] != "marts"]
    excluded = sorted(node["name"] for node in models if node["name"].startswith("stg_open_finance__"))
    assert len(subset) > 60 and excluded
    target = tmp_path / "target"
    seed_partial_parse(target, "ci")
    common = ["--target", "ci", "--target-path", str(target), "--quiet"]
    common += ["--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)]
    args = ["ls", *common, "--output", "json", "--output-keys", "unique_id"]
    args += ["--select", *subset, "importau.marts.recommendations", "fct_import_*", "--exclude", *excluded]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "CLICKHOUSE_", "DBT_"))}
    env.update(APP_ENV="ci", IMPORTAU_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps([args, ["parse", *common]])],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lists = json.loads(done.stdout.strip().splitlines()[-1])
    assert lists["memoised"] == lists["own"]
    own = set(lists["own"])
    assert "model.importau.fct_recommendations" in own and "model.importau.fct_import_landed_cost" in own
    assert "model.importau.fct_fx_variance" not in own  # a mart neither selected nor matched
    assert not any(uid.startswith("model.importau.stg_open_finance__") for uid in own)
    assert any(uid.startswith("test.importau.") for uid in own)  # and their tests, as dbt selects them
