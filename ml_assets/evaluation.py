"""Each model against its baseline, with a 95 % bootstrap interval of the difference: does it show skill?

`evaluate_models(...)` takes the feature frames (as `ml.ml_<model>__features` has them) and the known anomalies,
re-runs each model's own backtest and returns a plain dict (JSON-ready) per model:
`metric`, `model`, `baseline`, `baseline_name`, `difference` (model - baseline), `interval` (its bootstrap
interval), `better` ("yes" when the whole interval favours the model, "no" when it favours the baseline,
"undecided" when it contains 0), `n` and `better_is` ("lower" or "higher").

- supplier_delay: Brier score over the rolling backtest (each shipment scored by a model fitted on what was known
  before its month's cutoff) vs the late share known at that cutoff; paired bootstrap over those shipments.
- cash_flow: walk-forward MAE vs the better seasonal naive; the forecasts of one origin share their errors, so the
  bootstrap resamples whole origins.
- transaction_anomaly: precision@k of the forest's ranking vs ranking by |amount z-score|, at the promotion's k
  and at k = the number of known anomalies; Poisson bootstrap over the movements (each movement counted
  Poisson(1) times, so only the top of each ranking needs drawing). Also the recall per planted kind.
No Dagster here; `evaluate_warehouse` reads the frames from any object with `query_df`.
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ml_assets.cash_flow import evaluation as cash_flow_evaluation
from ml_assets.supplier_delay import evaluation as delay_evaluation
from ml_assets.transaction_anomaly import evaluation as anomaly_evaluation
from ml_assets.transaction_anomaly.features import KEY as ANOMALY_KEY
from ml_assets.transaction_anomaly.model import anomaly_score, fit

LEVEL = 0.95
RESAMPLES = 2000


def _verdict(interval: tuple[float, float], lower_is_better: bool) -> str:
    low, high = interval
    if low <= 0 <= high:
        return "undecided"
    model_lower = high < 0
    return "yes" if model_lower == lower_is_better else "no"


def _percentiles(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _comparison(metric, model, baseline, baseline_name, interval, n, lower_is_better, **extra) -> dict:
    return {
        "metric": metric,
        "model": float(model),
        "baseline": float(baseline),
        "baseline_name": baseline_name,
        "difference": float(model - baseline),
        "interval": [interval[0], interval[1]],
        "better": _verdict(interval, lower_is_better),
        "better_is": "lower" if lower_is_better else "higher",
        "n": int(n),
        **extra,
    }


def supplier_delay_skill(frame: pd.DataFrame, seed: int = 42, resamples: int = RESAMPLES, level: float = LEVEL) -> dict:
    """Brier(model) vs Brier(base rate) over the rolling backtest (the one the promotion uses)."""
    result = delay_evaluation.rolling_backtest(frame, seed=seed)
    probabilities, outcomes = np.asarray(result.probabilities), np.asarray(result.outcomes, dtype=float)
    base_rates = result.base_rate_per_shipment
    interval = delay_evaluation.brier_difference_interval(outcomes, probabilities, base_rates, seed, resamples, level)
    return _comparison(
        "brier",
        result.brier,
        result.base_rate_brier,
        "late share known at each cutoff",
        interval,
        result.n_test,
        True,
        first_cutoff=str(result.cutoff),
        origins=result.origins,
        n_train=result.n_train,
        base_rate=result.base_rate,
        test_late_rate=result.test_late_rate,
        brier_skill=result.brier_skill,
    )


def cash_flow_skill(frame: pd.DataFrame, seed: int = 42, resamples: int = RESAMPLES, level: float = LEVEL) -> dict:
    """Walk-forward MAE of the model vs the better seasonal naive; block bootstrap over the origins."""
    result = cash_flow_evaluation.walk_forward(frame, seed=seed)
    predictions = result.predictions
    gap = (predictions["model"] - predictions["actual"]).abs() - (
        predictions[result.baseline_name] - predictions["actual"]
    ).abs()
    by_origin = gap.groupby(predictions["origin_date"]).agg(["sum", "count"])
    sums, counts = by_origin["sum"].to_numpy(), by_origin["count"].to_numpy()
    draws = np.random.default_rng(seed).integers(0, len(sums), size=(resamples, len(sums)))
    differences = sums[draws].sum(axis=1) / counts[draws].sum(axis=1)
    return _comparison(
        "mae",
        result.mae,
        result.baseline_mae,
        result.baseline_name,
        _percentiles(differences, level),
        result.n_forecasts,
        True,
        n_origins=len(sums),
        mae_ratio=result.mae_ratio,
        mae_scheduled_dues=result.mae_scheduled_dues,
    )


def _top_positions(scores: np.ndarray, keys: np.ndarray, depth: int) -> np.ndarray:
    return anomaly_evaluation.ranking(scores, keys)[:depth]


def precision_at_k_interval(
    model_scores, baseline_scores, labels, keys, k: int, seed: int = 42, resamples: int = RESAMPLES, level=LEVEL
) -> tuple[float, float]:
    """Poisson-bootstrap interval of precision@k(model) - precision@k(baseline) over the movements.

    Each resample counts every movement Poisson(1) times; the top k of a ranking are then its first rows until
    their counts reach k (the last one partly). Rows far down both rankings never reach a top k, so only the
    first `depth` rows of each are drawn."""
    labels = np.asarray(labels, dtype=float)
    depth = min(len(labels), 10 * k + 100)
    tops = [_top_positions(np.asarray(s, dtype=float), keys, depth) for s in (model_scores, baseline_scores)]
    rows = np.union1d(*tops)
    column = {row: i for i, row in enumerate(rows)}
    counts = np.random.default_rng(seed).poisson(1.0, size=(resamples, len(rows))).astype(float)
    precisions = []
    for top in tops:
        taken = counts[:, [column[row] for row in top]]
        cumulative = np.cumsum(taken, axis=1)
        weight = np.clip(k - (cumulative - taken), 0, taken)  # how much of each row falls inside the top k
        precisions.append((weight * labels[top]).sum(axis=1) / k)
    return _percentiles(precisions[0] - precisions[1], level)


def _kind_recall(order: np.ndarray, keys: np.ndarray, kinds: Mapping[str, str], k: int) -> dict[str, float]:
    top = {keys[row] for row in order[:k]}
    totals: dict[str, list[int]] = {}
    for key, kind in kinds.items():
        if key in set(keys):
            totals.setdefault(kind, []).append(int(key in top))
    return {kind: float(np.mean(found)) for kind, found in sorted(totals.items())}


def anomaly_skill(
    frame: pd.DataFrame,
    known_anomalies: Iterable[Mapping],
    seed: int = 42,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict:
    """precision@k of the forest vs |amount z-score| at k = PRIMARY_K and k = the number of known anomalies.

    `known_anomalies`: ground-truth rows with `bank_transaction_id` and `kind` (rows without a movement are
    skipped)."""
    kinds = {
        str(r["bank_transaction_id"]): str(r.get("kind", "")) for r in known_anomalies if r.get("bank_transaction_id")
    }
    keys = frame[ANOMALY_KEY].astype(str).to_numpy()
    labels = np.isin(keys, list(kinds))
    if not labels.any():
        raise ValueError("none of the known anomalies is among the movements: nothing to evaluate against")
    scores = anomaly_score(fit(frame, seed), frame)
    baseline = anomaly_evaluation.baseline_score(frame)
    order = anomaly_evaluation.ranking(scores, keys)
    out = {}
    for name, k in (("at_n_known", int(labels.sum())), ("at_primary_k", anomaly_evaluation.PRIMARY_K)):
        interval = precision_at_k_interval(scores, baseline, labels, keys, k, seed, resamples, level)
        out[name] = _comparison(
            f"precision_at_{k}",
            anomaly_evaluation.precision_at_k(scores, labels, k, keys),
            anomaly_evaluation.precision_at_k(baseline, labels, k, keys),
            "|amount z-score|",
            interval,
            len(frame),
            False,
            k=k,
            recall_by_kind=_kind_recall(order, keys, kinds, k),
        )
    out["n_known_anomalies"] = int(labels.sum())
    return out


def evaluate_models(
    supplier_delay: pd.DataFrame | None = None,
    cash_flow: pd.DataFrame | None = None,
    transaction_anomaly: pd.DataFrame | None = None,
    known_anomalies: Iterable[Mapping] | None = None,
    seed: int = 42,
    resamples: int = RESAMPLES,
    level: float = LEVEL,
) -> dict:
    """Every model given a frame, against its baseline (see the module docstring). A model whose backtest cannot
    run (too little history, no known anomaly) gets `{"error": "..."}` instead of numbers."""
    models: dict[str, dict] = {}
    jobs = {
        "supplier_delay": (supplier_delay, lambda f: supplier_delay_skill(f, seed, resamples, level)),
        "cash_flow": (cash_flow, lambda f: cash_flow_skill(f, seed, resamples, level)),
        "transaction_anomaly": (
            transaction_anomaly,
            lambda f: anomaly_skill(f, known_anomalies or [], seed, resamples, level),
        ),
    }
    for name, (frame, job) in jobs.items():
        if frame is None:
            continue
        try:
            models[name] = job(frame)
        except ValueError as error:
            models[name] = {"error": str(error)}
    return {"level": level, "resamples": resamples, "seed": seed, "models": models}


def evaluate_warehouse(
    warehouse, ground_truth: str | Path | None = None, seed: int = 42, movement_ids: Mapping[str, str] | None = None
) -> dict:
    """`evaluate_models` on the feature tables of a built warehouse and the anomalies of a ground-truth file
    (the demo's `<data_dir>/demo/ground_truth.json`); without the file the anomaly model is left out.

    `movement_ids`: the ground truth's id of a movement id the warehouse gives, when the bank source that fed it
    has ids of its own (a statement file's, an aggregator's); an id it lacks is the truth's already."""
    import json

    from ml_assets.cash_flow import data as cash_flow_data
    from ml_assets.supplier_delay import data as delay_data
    from ml_assets.transaction_anomaly import data as anomaly_data

    truth = json.loads(Path(ground_truth).read_text()) if ground_truth and Path(ground_truth).exists() else None
    movements = anomaly_data.features(warehouse) if truth else None
    if movements is not None and movement_ids:
        movements[ANOMALY_KEY] = [movement_ids.get(key, key) for key in movements[ANOMALY_KEY].astype(str)]
    return evaluate_models(
        supplier_delay=delay_data.features(warehouse),
        cash_flow=cash_flow_data.features(warehouse),
        transaction_anomaly=movements,
        known_anomalies=truth.get("anomalies", []) if truth else None,
        seed=seed,
    )
