"""The baseline serves until a model beats it. No Dagster.

Every model is backtested against a baseline (a seasonal naive, the random walk). The gate refuses a challenger
that does not beat it, and while a model has no champion at all, scoring has nothing to load and everything
downstream of the scores stops. For a model whose baseline forecasts the same thing from the same scoring rows,
that baseline is a better answer than nothing: training logs it next to the challenger, in the same MLflow run (a
pyfunc named `baseline`, not registered), and when the gate refuses the challenger and no trained model serves,
`review_or_serve_baseline` registers it as a version of the same registered model, tagged `importau.kind=baseline`
and `importau.baseline=<its name>`, and aliases it `champion`. Its metrics are the baseline's of that run
(`registry.version_metrics`), so a later challenger replaces it by the normal rule: beat the baseline of its own
backtest and the champion's metric, which is the baseline's.

A baseline version is registered only when needed: when nothing serves, or when the baseline that serves is no
longer the one the latest backtest chose (e.g. the 4-week seasonal naive instead of the 1-week one). A re-run of
the gate, or a new challenger that loses to the same baseline, leaves the serving version alone.
"""

from dataclasses import dataclass, replace
from typing import Any

from ml_assets.common import registry

BASELINE_ARTIFACT = "baseline"  # the baseline's logged model inside the challenger's run
TAG_BASELINE_URI = "importau.baseline_uri"  # on the run: the logged baseline's model URI, to register it from
TAG_BASELINE_OF = "importau.baseline_of"  # on a baseline version: the challenger version whose run logged it


@dataclass(frozen=True)
class ServedBaseline:
    """The baseline of a backtest, ready to serve.

    `model` is an `mlflow.pyfunc.PythonModel` whose `predict` gives exactly the baseline's forecast for the rows
    the model's scoring function builds (its own columns, named by the signature of `input_example`).
    """

    name: str  # e.g. "seasonal_naive_4w": the method, as the backtest metrics and notes name it
    model: Any
    input_example: Any
    output_example: Any


def log_baseline(baseline: ServedBaseline) -> None:
    """Log the baseline in the active run as the pyfunc `baseline` (not registered) and tag the run with its name."""
    import mlflow
    from mlflow.models import infer_signature

    if mlflow.active_run() is None:
        raise RuntimeError("log_baseline needs an active MLflow run (tracking.training_run)")
    info = mlflow.pyfunc.log_model(
        name=BASELINE_ARTIFACT,
        python_model=baseline.model,
        signature=infer_signature(baseline.input_example, baseline.output_example),
        input_example=baseline.input_example,
        pip_requirements=registry.pinned_requirements(),
    )
    mlflow.set_tags({registry.TAG_BASELINE: baseline.name, TAG_BASELINE_URI: info.model_uri})


def logged_baseline(run_id: str, client=None) -> tuple[str, str] | None:
    """(name, model URI) of the baseline a training run logged, or None when it logged none."""
    tags = registry.mlflow_client(client).get_run(run_id).data.tags
    if registry.TAG_BASELINE not in tags:
        return None
    return tags[registry.TAG_BASELINE], tags.get(TAG_BASELINE_URI, f"runs:/{run_id}/{BASELINE_ARTIFACT}")


def register_baseline(name: str, challenger, baseline_name: str, model_uri: str, client=None) -> str:
    """Register the baseline `challenger`'s run logged (at `model_uri`) as a new version of `name`, alias it
    champion."""
    import mlflow

    client = registry.mlflow_client(client)
    registered = mlflow.register_model(
        model_uri,
        name,
        tags={
            registry.TAG_KIND: registry.KIND_BASELINE,
            registry.TAG_BASELINE: baseline_name,
            TAG_BASELINE_OF: str(challenger.version),
        },
    )
    version = str(registered.version)
    client.set_registered_model_alias(name, registry.CHAMPION, version)
    client.set_model_version_tag(
        name,
        version,
        registry.TAG_PROMOTION,
        f"serving as the baseline {baseline_name}: no model has beaten it yet (challenger {challenger.version} "
        "was refused)",
    )
    return version


def review_or_serve_baseline(name: str, metric: str, higher_is_better: bool, client=None) -> registry.PromotionDecision:
    """The promotion gate of a model that falls back on its baseline.

    `registry.review_challenger` first. If it promotes, or a trained model keeps serving, that is the answer. If
    it refuses and nothing serves (or a baseline other than the one the challenger's backtest chose), the baseline
    the challenger's run logged becomes champion; the reasons say so.
    """
    client = registry.mlflow_client(client)
    decision = registry.review_challenger(name, metric, higher_is_better, client)
    if decision.promote or decision.serving_kind == registry.KIND_MODEL:
        return decision
    challenger = registry.version_by_alias(name, registry.CHALLENGER, client)
    logged = logged_baseline(challenger.run_id, client)
    if logged is None:
        note = f"the run of version {challenger.version} logged no baseline to serve"
        return replace(decision, reasons=[*decision.reasons, note])
    baseline_name, model_uri = logged
    if decision.serving_baseline == baseline_name:
        note = f"the baseline {baseline_name} keeps serving (version {decision.serving_version})"
        return replace(decision, reasons=[*decision.reasons, note])
    version = register_baseline(name, challenger, baseline_name, model_uri, client)
    note = (
        f"no model has beaten the baseline yet: the baseline {baseline_name} serves as champion (version {version}, "
        f"from the run of version {challenger.version})"
    )
    if decision.serving_baseline is not None:
        note += f", replacing the baseline {decision.serving_baseline} (version {decision.serving_version})"
    return replace(
        decision,
        reasons=[*decision.reasons, note],
        serving_version=version,
        serving_kind=registry.KIND_BASELINE,
        serving_baseline=baseline_name,
    )
