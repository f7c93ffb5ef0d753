"""The model registry: register a version with its signature and input example, and move aliases. No Dagster.

Promotion is by alias, never by stage (STYLE.md section 11): training registers a version and points
`challenger` at it; `promote_if_better` moves `champion` to it only when it beats both the baseline and the
current champion on the model's backtest metric. Scoring loads `models:/<name>@champion`, resolved to a
version number first so every scored row can name it.

Metrics convention: a training run logs the model's metrics under their names and the baseline's (evaluated on
the same backtest) as `baseline_<name>`, so the promotion reads both from the challenger's run.

Kinds of version: a trained model (`kind` tag absent or `model`), or a baseline that serves until a model beats it
(`kind=baseline`, registered by `baseline.review_or_serve_baseline` from the run of a refused challenger); a
baseline version's own metrics are the baseline metrics of that run.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata

CHAMPION = "champion"
CHALLENGER = "challenger"
BASELINE_PREFIX = "baseline_"
ARTIFACT_NAME = "model"  # the logged model's name inside its run
TAG_PROMOTION = "importau.promotion"  # on the version: promoted / refused, with the reasons
TAG_KIND = "importau.kind"  # on the version: what it is (absent on versions registered before kinds existed)
KIND_MODEL = "model"  # a trained model
KIND_BASELINE = "baseline"  # the baseline forecaster of a backtest, served while no model beats it
TAG_BASELINE = "importau.baseline"  # the baseline's name (e.g. seasonal_naive_4w), on its run and its version
DEFAULT_PACKAGES = ("mlflow", "scikit-learn", "pandas", "numpy", "scipy", "cloudpickle")


@dataclass(frozen=True)
class RegisteredVersion:
    name: str
    version: str
    run_id: str

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the challenger becomes champion, and why, in words a person reads in the Dagster UI."""

    promote: bool
    metric: str
    higher_is_better: bool
    challenger: float | None
    champion: float | None
    baseline: float | None
    reasons: list[str] = field(default_factory=list)
    version: str | None = None
    previous_champion: str | None = None
    # what serves after the decision: the version aliased champion (None: nothing, scoring cannot run), its kind
    # (KIND_MODEL or KIND_BASELINE) and, for a baseline, its name
    serving_version: str | None = None
    serving_kind: str | None = None
    serving_baseline: str | None = None

    def as_metadata(self) -> dict:
        return {
            "promoted": self.promote,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "challenger": self.challenger,
            "champion": self.champion,
            "baseline": self.baseline,
            "version": self.version,
            "previous_champion": self.previous_champion,
            "champion_version": self.serving_version or "none",
            "champion_kind": self.serving_kind or "none",
            "serving_baseline": self.serving_baseline,
            "reasons": "; ".join(self.reasons),
        }


def mlflow_client(client=None):
    """`client`, else a client of the tracking and registry URIs this process is configured with."""
    from mlflow import MlflowClient

    return client or MlflowClient()


def pinned_requirements(packages=DEFAULT_PACKAGES) -> list[str]:
    """`name==version` of the installed packages: given explicitly, MLflow skips its slow inference step."""
    pins = []
    for name in packages:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def log_and_register(
    name: str,
    model,
    input_example,
    *,
    output_example=None,
    flavor: str = "sklearn",
    pip_requirements: list[str] | None = None,
    skops_trusted_types: list[str] | None = None,
    client=None,
) -> RegisteredVersion:
    """Log `model` in the active run with a signature and an input example, register a version, alias it challenger.

    `flavor="sklearn"`: an sklearn estimator/Pipeline (the signature comes from `model.predict(input_example)`
    unless `output_example` is given). `flavor="pyfunc"`: an `mlflow.pyfunc.PythonModel`; give `output_example`.
    `skops_trusted_types`: sklearn flavor only, the types beyond skops' defaults the saved model may load
    (MLflow saves sklearn models with skops, which refuses e.g. tree or calibration internals unless named).
    """
    import mlflow
    from mlflow.models import infer_signature

    run = mlflow.active_run()
    if run is None:
        raise RuntimeError("log_and_register needs an active MLflow run (tracking.training_run)")
    if output_example is None:
        if flavor != "sklearn":
            raise ValueError("a pyfunc model needs output_example for its signature")
        output_example = model.predict(input_example)
    common = {
        "name": ARTIFACT_NAME,
        "signature": infer_signature(input_example, output_example),
        "input_example": input_example,
        "registered_model_name": name,
        "pip_requirements": pip_requirements or pinned_requirements(),
    }
    if flavor == "sklearn":
        trusted = {"skops_trusted_types": list(skops_trusted_types)} if skops_trusted_types else {}
        info = mlflow.sklearn.log_model(sk_model=model, **common, **trusted)
    elif flavor == "pyfunc":
        info = mlflow.pyfunc.log_model(python_model=model, **common)
    else:
        raise ValueError(f"unknown flavor {flavor!r} (sklearn or pyfunc)")
    version = str(info.registered_model_version)
    mlflow_client(client).set_registered_model_alias(name, CHALLENGER, version)
    return RegisteredVersion(name, version, run.info.run_id)


def log_metrics(metrics: Mapping[str, float], baseline_metrics: Mapping[str, float]) -> None:
    """The model's and the baseline's backtest metrics in the active run (baseline as `baseline_<name>`)."""
    import mlflow

    mlflow.log_metrics({key: float(value) for key, value in metrics.items()})
    mlflow.log_metrics({BASELINE_PREFIX + key: float(value) for key, value in baseline_metrics.items()})


def version_by_alias(name: str, alias: str, client=None):
    """The ModelVersion the alias points at, or None when the model or the alias does not exist yet."""
    from mlflow.exceptions import MlflowException

    try:
        return mlflow_client(client).get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def version_kind(model_version) -> str:
    """KIND_MODEL or KIND_BASELINE, from the version's tag (a version without the tag is a trained model)."""
    return (model_version.tags or {}).get(TAG_KIND, KIND_MODEL)


def version_metrics(name: str, version: str, client=None) -> tuple[dict, dict]:
    """(its own metrics, baseline metrics) logged by the run that produced this version.

    A baseline version was registered from a challenger's run, which logged the baseline as `baseline_<name>`:
    those are its own metrics too, so a later challenger is compared with what the baseline scored.
    """
    client = mlflow_client(client)
    model_version = client.get_model_version(name, version)
    logged = client.get_run(model_version.run_id).data.metrics if model_version.run_id else {}
    own = {key: value for key, value in logged.items() if not key.startswith(BASELINE_PREFIX)}
    baseline = {
        key.removeprefix(BASELINE_PREFIX): value for key, value in logged.items() if key.startswith(BASELINE_PREFIX)
    }
    if version_kind(model_version) == KIND_BASELINE:
        return dict(baseline), baseline
    return own, baseline


def serving(name: str, client=None) -> tuple[str | None, str | None, str | None]:
    """(version, kind, baseline name) of what `champion` points at now; (None, None, None) when nothing serves."""
    champion = version_by_alias(name, CHAMPION, client)
    if champion is None:
        return None, None, None
    kind = version_kind(champion)
    baseline = (champion.tags or {}).get(TAG_BASELINE) if kind == KIND_BASELINE else None
    return str(champion.version), kind, baseline


def _value(metrics: Mapping[str, float] | None, metric: str) -> float | None:
    if not metrics or metric not in metrics:
        return None
    value = float(metrics[metric])
    return None if math.isnan(value) else value


def _better(a: float, b: float, higher_is_better: bool) -> bool:
    return a > b if higher_is_better else a < b


def decide_promotion(
    challenger_metrics: Mapping[str, float] | None,
    champion_metrics: Mapping[str, float] | None,
    baseline_metrics: Mapping[str, float] | None,
    metric: str,
    higher_is_better: bool,
) -> PromotionDecision:
    """Pure rule: promote only if the challenger is strictly better than the baseline AND the champion (if any).

    A missing challenger or baseline value refuses (nothing to compare is not a pass); a tie refuses.
    """
    challenger = _value(challenger_metrics, metric)
    champion = _value(champion_metrics, metric)
    baseline = _value(baseline_metrics, metric)
    word = "higher" if higher_is_better else "lower"
    reasons: list[str] = []
    ok = True
    if challenger is None:
        reasons = [f"challenger has no {metric}"]
        return PromotionDecision(False, metric, higher_is_better, None, champion, baseline, reasons)
    if baseline is None:
        ok = False
        reasons.append(f"no baseline {metric} to compare with")
    elif _better(challenger, baseline, higher_is_better):
        reasons.append(f"beats the baseline: {metric} {challenger:.6g} vs {baseline:.6g} ({word} is better)")
    else:
        ok = False
        reasons.append(f"does not beat the baseline: {metric} {challenger:.6g} vs {baseline:.6g} ({word} is better)")
    if champion_metrics is None:
        reasons.append("no champion yet")
    elif champion is None:
        reasons.append(f"the champion has no {metric}: compared with the baseline only")
    elif _better(challenger, champion, higher_is_better):
        reasons.append(f"beats the champion: {metric} {challenger:.6g} vs {champion:.6g}")
    else:
        ok = False
        reasons.append(f"does not beat the champion: {metric} {challenger:.6g} vs {champion:.6g}")
    return PromotionDecision(ok, metric, higher_is_better, challenger, champion, baseline, reasons)


def promote_if_better(
    name: str,
    challenger_metrics: Mapping[str, float] | None,
    champion_metrics: Mapping[str, float] | None,
    baseline_metrics: Mapping[str, float] | None,
    metric: str,
    higher_is_better: bool,
    version: str | None = None,
    client=None,
) -> PromotionDecision:
    """Apply `decide_promotion`; if it says yes, move `champion` to `version` (default: the current challenger).

    The decision and its reasons are written as a tag on the version either way.
    """
    from dataclasses import replace

    client = mlflow_client(client)
    if version is None:
        challenger = version_by_alias(name, CHALLENGER, client)
        if challenger is None:
            raise LookupError(f"model {name} has no {CHALLENGER} version to promote")
        version = str(challenger.version)
    current = version_by_alias(name, CHAMPION, client)
    previous = str(current.version) if current is not None else None
    decision = decide_promotion(challenger_metrics, champion_metrics, baseline_metrics, metric, higher_is_better)
    decision = replace(decision, version=version, previous_champion=previous)
    if decision.promote:
        client.set_registered_model_alias(name, CHAMPION, version)
    verdict = "promoted" if decision.promote else "refused"
    client.set_model_version_tag(name, version, TAG_PROMOTION, f"{verdict}: {'; '.join(decision.reasons)}"[:5000])
    return decision


def review_challenger(name: str, metric: str, higher_is_better: bool, client=None) -> PromotionDecision:
    """The promotion gate: the challenger's and baseline's metrics from its run vs the champion's, then decide.

    If the challenger already is the champion (a re-run of the gate), it stays, with that as the reason. The
    decision ends with what serves after it (`serving_*`).
    """
    from dataclasses import replace

    client = mlflow_client(client)
    challenger = version_by_alias(name, CHALLENGER, client)
    if challenger is None:
        raise LookupError(f"model {name} has no {CHALLENGER} version to review")
    champion = version_by_alias(name, CHAMPION, client)
    version = str(challenger.version)
    challenger_metrics, baseline_metrics = version_metrics(name, version, client)
    if champion is not None and str(champion.version) == version:
        value = _value(challenger_metrics, metric)
        decision = PromotionDecision(
            True, metric, higher_is_better, value, value, _value(baseline_metrics, metric),
            [f"version {version} already is the champion"], version, version,
        )  # fmt: skip
    else:
        champion_metrics = version_metrics(name, str(champion.version), client)[0] if champion is not None else None
        decision = promote_if_better(
            name, challenger_metrics, champion_metrics, baseline_metrics, metric, higher_is_better, version, client
        )
    serving_version, kind, baseline = serving(name, client)
    return replace(decision, serving_version=serving_version, serving_kind=kind, serving_baseline=baseline)


@dataclass(frozen=True)
class ServedVersion:
    """A loaded version and what it is: the scores name its version and kind on every row."""

    model: object  # the pyfunc model
    version: str
    kind: str  # KIND_MODEL or KIND_BASELINE
    baseline: str | None = None  # the baseline's name when kind is KIND_BASELINE


def load_served(name: str, alias: str = CHAMPION, client=None) -> ServedVersion:
    """`models:/<name>@<alias>`, resolved to a fixed version number first, loaded, with its kind."""
    import mlflow

    found = version_by_alias(name, alias, client)
    if found is None:
        raise LookupError(f"model {name} has no {alias} version yet (train it and let the promotion check run)")
    version, kind = str(found.version), version_kind(found)
    baseline = (found.tags or {}).get(TAG_BASELINE) if kind == KIND_BASELINE else None
    return ServedVersion(mlflow.pyfunc.load_model(f"models:/{name}/{version}"), version, kind, baseline)


def load_by_alias(name: str, alias: str = CHAMPION, client=None):
    """(pyfunc model, version) for `models:/<name>@<alias>`, resolved to a fixed version number first."""
    served = load_served(name, alias, client)
    return served.model, served.version


def signature_inputs(model, frame):
    """The columns of `frame` the model's signature names, in its order; `frame` itself for a model without one.

    A scoring function builds one frame with what every kind of version of its model reads (a trained model's
    features, a baseline's lags) and gives each version the columns it declared: MLflow would drop the others
    too, but with a warning on every call.
    """
    metadata = getattr(model, "metadata", None)
    schema = metadata.get_input_schema() if metadata is not None else None
    if schema is None or not schema.has_input_names():
        return frame
    return frame[schema.input_names()]
