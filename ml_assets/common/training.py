"""What every model's training hands over, and how it lands in MLflow: one tagged run, one registered version.

A model package (`ml_assets/<model>/`) returns a `TrainingResult` from pure code; `record_training` logs it
(params, backtest metrics of the model and of its baseline, figures as PNG artifacts, notes, and the baseline
itself when it can serve: `baseline.py`), registers the model with its signature and input example, and points
`challenger` at the new version. No Dagster.
"""

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ingestion.common.spreadsheet import neutralise
from ml_assets.common import baseline, plots, registry, tracking


@dataclass
class TrainingResult:
    """A fitted model and its evaluation on a backtest it never trained on."""

    model: Any  # an sklearn Pipeline (flavor "sklearn") or an mlflow.pyfunc.PythonModel (flavor "pyfunc")
    input_example: Any  # a few rows of the model's input (pandas DataFrame)
    metrics: dict[str, float]  # the model's backtest metrics
    baseline_metrics: dict[str, float]  # the baseline's, on the same backtest and the same names
    flavor: str = "sklearn"
    output_example: Any = None  # required for pyfunc (the signature's output side)
    params: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)  # file stem -> matplotlib Figure
    notes: list[str] = field(default_factory=list)  # plain statements, e.g. "does not beat the random walk"
    tables: dict[str, Any] = field(default_factory=dict)  # file stem -> pandas DataFrame (logged as CSV)
    skops_trusted_types: list[str] = field(default_factory=list)  # sklearn flavor: types skops must trust to load
    # the baseline of `baseline_metrics` as a servable pyfunc, when it forecasts the same thing from the same scoring
    # rows: logged in the run, and served by the gate while no model beats it (baseline.py)
    served_baseline: baseline.ServedBaseline | None = None


@dataclass(frozen=True)
class RecordedTraining:
    version: registry.RegisteredVersion
    experiment: str
    images: dict[str, str]  # file stem -> Markdown image (for the asset's metadata)


def _for_people(frame):
    """A table logged as a CSV artifact, which people download and open in a spreadsheet: its text cells that a
    spreadsheet would take for a formula get a leading `'` (`ingestion/common/spreadsheet.py`); numbers stay.
    Written with text quoted, so a carriage return inside a value cannot start a new row."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    return frame.assign(**{str(column): frame[column].map(neutralise) for column in text})


def record_training(
    model_name: str,
    result: TrainingResult,
    config: tracking.TrackingConfig,
    tags: Mapping[str, str],
) -> RecordedTraining:
    """Log `result` in a new run of the model's experiment, register it and alias it `challenger` (the baseline,
    if any, is logged in the same run but not registered: the gate decides whether it serves)."""
    import mlflow

    images = {}
    with tracking.training_run(model_name, config, tags, run_name=f"{model_name}-{tags.get('dagster.run_id', '')[:8]}"):
        if result.params:
            mlflow.log_params({key: str(value)[:500] for key, value in result.params.items()})
        registry.log_metrics(result.metrics, result.baseline_metrics)
        for stem, fig in result.figures.items():
            mlflow.log_figure(fig, f"{stem}.png")
            images[stem] = plots.markdown_image(fig, stem)
        for stem, frame in result.tables.items():
            mlflow.log_text(_for_people(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC), f"{stem}.csv")
        if result.notes:
            mlflow.log_text("\n".join(result.notes) + "\n", "notes.txt")
            mlflow.set_tag("importau.notes", " | ".join(result.notes)[:5000])
        if result.served_baseline is not None:
            baseline.log_baseline(result.served_baseline)
        version = registry.log_and_register(
            model_name,
            result.model,
            result.input_example,
            output_example=result.output_example,
            flavor=result.flavor,
            skops_trusted_types=result.skops_trusted_types,
        )
    return RecordedTraining(version, model_name, images)
