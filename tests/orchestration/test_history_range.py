"""Partitions start where the data does: IMPORTAU_HISTORY_START / IMPORTAU_MARKET_HISTORY_START, set and recorded
by `importau demo`, read back by `importau dev` (orchestration/commands/history_range.py). Each case loads the
definitions in a fresh interpreter, as a code location process would."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SHOW = """
import json, sys
from orchestration.commands.history_range import {call}
{call}({args})
from orchestration.partitions import bcb_partitions, erp_partitions, open_finance_partitions
print(json.dumps({{name: p.get_first_partition_key() for name, p in
    (("bcb", bcb_partitions), ("erp", erp_partitions), ("open_finance", open_finance_partitions))}}))
"""


def _first_keys(home: Path, call: str, args: str = "", **env) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("IMPORTAU_")}
    environment.update(DAGSTER_HOME=str(home), PYTHONPATH=str(REPO), **env)
    done = subprocess.run(
        [sys.executable, "-c", SHOW.format(call=call, args=args)],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_a_record_each_source_starts_at_its_earliest(tmp_path):
    assert _first_keys(tmp_path, "use_recorded_range") == {
        "bcb": "2000-01-01",
        "erp": "2020-01-01",
        "open_finance": "2021-08-01",
    }


def test_the_demo_range_is_recorded_and_dev_reads_it_back(tmp_path):
    assert _first_keys(tmp_path, "use_range", "'2024-01-01', '2022-01-01'") == {
        "bcb": "2022-01-01",
        "erp": "2024-01-01",
        "open_finance": "2024-01-01",
    }
    assert json.loads((tmp_path / "history_range.json").read_text()) == {
        "IMPORTAU_HISTORY_START": "2024-01-01",
        "IMPORTAU_MARKET_HISTORY_START": "2022-01-01",
    }
    assert _first_keys(tmp_path, "use_recorded_range")["bcb"] == "2022-01-01"
    # A later, shorter demo keeps the months the first one loaded visible.
    assert _first_keys(tmp_path, "use_range", "'2024-06-01', '2024-06-01'")["bcb"] == "2022-01-01"


def test_the_environment_wins_and_nothing_starts_before_a_sources_earliest_date(tmp_path):
    keys = _first_keys(tmp_path, "use_range", "'2024-01-01', '2022-01-01'", IMPORTAU_HISTORY_START="2019-03-15")
    # The variable set in the environment wins over the demo's range; the other one comes from the range.
    assert keys == {"bcb": "2022-01-01", "erp": "2020-01-01", "open_finance": "2021-08-01"}


def test_a_bad_date_names_the_variable(tmp_path):
    with pytest.raises(AssertionError, match="IMPORTAU_MARKET_HISTORY_START='2024-13-01' is not a date"):
        _first_keys(tmp_path, "use_recorded_range", IMPORTAU_MARKET_HISTORY_START="2024-13-01")
