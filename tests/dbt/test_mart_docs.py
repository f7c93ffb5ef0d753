"""Every mart documents its grain ("One row per ...") and every column, as BI users read them in dbt docs."""

from pathlib import Path

import yaml

MARTS = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"


def mart_models() -> list[dict]:
    models = []
    for path in sorted(MARTS.glob("*/_*.yml")):
        models += (yaml.safe_load(path.read_text()) or {}).get("models", [])
    return models


def test_every_mart_states_its_grain():
    def grain(model: dict) -> str:
        return " ".join(model.get("description", "").split()).lower()

    missing = [m["name"] for m in mart_models() if "one row per" not in grain(m)]
    assert not missing, missing


def test_every_mart_column_is_described_and_typed():
    models = mart_models()
    assert len(models) >= 13
    columns = [(m["name"], c) for m in models for c in m.get("columns", [])]
    undescribed = [f"{name}.{c['name']}" for name, c in columns if not str(c.get("description", "")).strip()]
    untyped = [f"{name}.{c['name']}" for name, c in columns if not c.get("data_type")]
    assert not undescribed, undescribed
    assert not untyped
