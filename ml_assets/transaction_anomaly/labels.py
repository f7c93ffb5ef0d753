"""Known anomalies to evaluate against (never a feature): the demo's planted ones, from the ground truth the demo
writes to `<data dir>/demo/ground_truth.json`. Production has no such file until analysts confirm anomalies; then
there is nothing to evaluate and the promotion refuses every version."""

import json
from pathlib import Path


def ground_truth_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "demo" / "ground_truth.json"


def known_anomaly_ids(path: str | Path) -> list[str]:
    """The bank transaction ids of the anomalies in a ground-truth file ([] when there is no file)."""
    path = Path(path)
    if not path.exists():
        return []
    truth = json.loads(path.read_text())
    return sorted({row["bank_transaction_id"] for row in truth.get("anomalies", []) if row.get("bank_transaction_id")})
