"""Lake-side quality: each lake step profiles what it wrote with DuckDB and judges it, in the same step.

Every lake multi-asset (`bcb_pull`, `open_finance_pull`, `erp_file_drop`, `erp_postgres_extract`) carries one
`lake_quality` check spec per asset and calls `assess` after writing a dataset (the Airbyte sync, one asset writing
several datasets, calls `assess_datasets`): the profile of the run's months (`ingestion/common/lake_profile.py`)
goes into the materialization's metadata, and its judgement (`lake_rules.py`) into the check result that rides on
it. So quality costs no extra step and no extra run, and a Dagster user finds the profile on
the asset's materialization and the check on the asset's Checks tab. It never opens the warehouse (DuckDB reads
the Parquet in this process), so it is outside the `warehouse` pool and runs while a warehouse step holds chDB.

The check is blocking: a column that had values and is now empty fails it with severity ERROR, which fails the
lake step after its materializations are recorded, so the raw load of the same run (the `ingest_*` jobs, the
demo), which would copy the blanked column into the warehouse, does not run. (The automation sensor's eager raw
load does not read checks; there the failed run and its alert are the signal: docs/architecture.md.)
Every other rule (quarantine share, row-count drop or surge, null-rate increase, mean shift when enabled) fails
it with severity WARN: recorded, nothing blocked. Thresholds come from the environment (`LAKE_QUALITY_*`,
defaults in ingestion/common/settings_registry.py), explained in docs/architecture.md, "Lake quality".
"""

import dataclasses
from collections.abc import Sequence
from datetime import date

import dagster as dg

from ingestion.common import settings_registry
from ingestion.common.lake import Lake
from ingestion.common.lake_profile import QUANTILES, DatasetProfile, MonthProfile, profile_dataset
from ingestion.common.lake_rules import Problem, Thresholds
from ingestion.common.lake_rules import judge as judge_profile
from orchestration.defs.metadata import sao_paulo_today

CHECK_NAME = "lake_quality"
SHOWN_PROBLEMS = 20


def check_specs(keys: Sequence[dg.AssetKey]) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            CHECK_NAME,
            asset=key,
            blocking=True,
            description="DuckDB profile of the run's months in the lake: a column emptied since the previous "
            "partition fails it (ERROR, blocks the raw load); quarantine share, row-count drift and null-rate "
            "increase over their thresholds warn (LAKE_QUALITY_* variables).",
        )
        for key in keys
    ]


def thresholds_from_env() -> Thresholds:
    """`LAKE_QUALITY_*` as `Thresholds` (unset: the settings registry's default); an empty variable keeps the
    `Thresholds` default."""

    def value(name: str, default: float | None, scale: float = 1.0) -> float | None:
        raw = settings_registry.value(name).strip()
        if not raw:
            return default
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"{name} must be a number, got {raw!r}") from None
        return number / scale

    defaults = Thresholds()
    mean_shift = value("LAKE_QUALITY_MAX_MEAN_SHIFT_SD", defaults.max_mean_shift_sd)
    return Thresholds(
        max_quarantine_share=value("LAKE_QUALITY_MAX_QUARANTINE_PERCENT", defaults.max_quarantine_share, 100),
        min_row_ratio=value("LAKE_QUALITY_MIN_ROW_RATIO", defaults.min_row_ratio),
        max_row_ratio=value("LAKE_QUALITY_MAX_ROW_RATIO", defaults.max_row_ratio),
        max_null_rate_increase=value(
            "LAKE_QUALITY_MAX_NULL_RATE_INCREASE_PERCENT", defaults.max_null_rate_increase, 100
        ),
        max_mean_shift_sd=mean_shift if mean_shift else None,  # 0 turns the rule off, like unset
    )


def assess(
    store: Lake, source: str, entity: str, key: dg.AssetKey, start: date, end: date
) -> tuple[dict, dg.AssetCheckResult]:
    """The profile metadata for the materialization of `key`, and its `lake_quality` check result."""
    thresholds = thresholds_from_env()
    try:
        profile = profile_dataset(store, source, entity, start, end, as_of=sao_paulo_today())
    except Exception as error:
        return _unreadable(key, source, entity, error)
    problems = judge_profile(profile, thresholds)
    check = check_result(key, problems, thresholds)
    # one row per month of the run: on the check (one event per run), not on the materialization, which a ranged
    # run records once per partition (a 36-month backfill would store the 36-row table 36 times)
    check = check.with_metadata({**check.metadata, "profile_by_month": _month_table(profile.months)})
    return profile_metadata(profile), check


def _unreadable(key: dg.AssetKey, source: str, entity: str, error: Exception) -> tuple[dict, dg.AssetCheckResult]:
    """An object that cannot be read (corrupt Parquet, S3 down) fails the check, blocking; the materialization of
    what was written is still recorded."""
    message = f"{source}/{entity}: the lake could not be profiled: {type(error).__name__}: {error}"
    check = dg.AssetCheckResult(
        asset_key=key, check_name=CHECK_NAME, passed=False, description=message, metadata={"error": message}
    )
    return {"profile_error": message}, check


def assess_datasets(
    store: Lake, source: str, entities: Sequence[str], key: dg.AssetKey, start: date, end: date
) -> tuple[dict, dg.AssetCheckResult]:
    """`assess` for one asset that writes several datasets (the Airbyte sync): one row per dataset in
    `profile_by_dataset`, and one check over all of them (each problem names its dataset)."""
    thresholds = thresholds_from_env()
    problems, profiles = [], []
    for entity in entities:
        try:
            profile = profile_dataset(store, source, entity, start, end, as_of=sao_paulo_today())
        except Exception as error:
            return _unreadable(key, source, entity, error)
        profiles.append(profile)
        for problem in judge_profile(profile, thresholds):
            problems.append(dataclasses.replace(problem, message=f"{entity}: {problem.message}"))
    problems.sort(key=lambda problem: problem.severity != "error")
    columns = [
        dg.TableColumn("dataset", "string"),
        dg.TableColumn("month", "string"),
        dg.TableColumn("rows", "int"),
        dg.TableColumn("quarantine_share", "float"),
        dg.TableColumn("previous_partition", "string"),
        dg.TableColumn("row_ratio_vs_previous", "float"),
    ]
    records = []
    for profile in profiles:
        latest = profile.latest
        records.append(
            dg.TableRecord(
                {
                    "dataset": f"{source}/{profile.entity}",
                    "month": latest.month.strftime("%Y-%m"),
                    "rows": latest.rows,
                    "quarantine_share": _round(latest.quarantine_share),
                    "previous_partition": latest.drift.previous_month.strftime("%Y-%m") if latest.drift else None,
                    "row_ratio_vs_previous": _round(latest.drift.row_ratio, 4) if latest.drift else None,
                }
            )
        )
    table = dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))
    return {"profile_by_dataset": table}, check_result(key, problems, thresholds)


def check_result(key: dg.AssetKey, problems: list[Problem], thresholds: Thresholds) -> dg.AssetCheckResult:
    errors = [problem for problem in problems if problem.severity == "error"]
    lines = ["| month | rule | severity | problem |", "|---|---|---|---|"]
    lines += [f"| {p.month:%Y-%m} | {p.rule} | {p.severity} | {p.message} |" for p in problems[:SHOWN_PROBLEMS]]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=CHECK_NAME,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR if errors else dg.AssetCheckSeverity.WARN,
        description="; ".join(problem.message for problem in problems[:3]) or None,
        metadata={
            "errors": len(errors),
            "warnings": len(problems) - len(errors),
            "problems": dg.MetadataValue.md("\n".join(lines) if problems else "_none_"),
            "thresholds": dg.MetadataValue.json(dataclasses.asdict(thresholds)),
        },
    )


def profile_metadata(profile: DatasetProfile) -> dict:
    """Numbers of the latest month with rows (plotted across materializations by the UI) and its columns as a
    table."""
    latest = profile.latest
    drift = latest.drift
    return {
        "profile_month": latest.month.strftime("%Y-%m"),
        "profile_rows": latest.rows,
        "quarantine_share": round(latest.quarantine_share, 6),
        "previous_partition": drift.previous_month.strftime("%Y-%m") if drift else "none",
        "row_ratio_vs_previous": round(drift.row_ratio, 4) if drift and drift.row_ratio is not None else None,
        "profile": _column_table(latest),
    }


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


_QUANTILE_NAMES = [f"p{round(q * 100):02d}" for q in QUANTILES]


def _column_table(month: MonthProfile) -> dg.TableMetadataValue:
    drift = month.drift
    columns = [
        dg.TableColumn("column", "string"),
        dg.TableColumn("type", "string"),
        dg.TableColumn("null_rate", "float"),
        dg.TableColumn("distinct", "int"),
        dg.TableColumn("min", "string"),
        dg.TableColumn("max", "string"),
        *(dg.TableColumn(name, "float") for name in _QUANTILE_NAMES),
        dg.TableColumn("mean", "float"),
        dg.TableColumn("std", "float"),
        dg.TableColumn("null_rate_change", "float", description="vs the previous partition"),
        dg.TableColumn("mean_shift_sd", "float", description="vs the previous partition, in its std devs"),
    ]
    records = []
    for column in month.columns:
        quantiles = column.quantiles or (None,) * len(QUANTILES)
        records.append(
            dg.TableRecord(
                {
                    "column": column.name,
                    "type": column.type,
                    "null_rate": _round(column.null_rate),
                    "distinct": column.distinct,
                    "min": column.min,
                    "max": column.max,
                    **{name: _round(q) for name, q in zip(_QUANTILE_NAMES, quantiles, strict=True)},
                    "mean": _round(column.mean),
                    "std": _round(column.std),
                    "null_rate_change": _round(drift.null_rate_change.get(column.name)) if drift else None,
                    "mean_shift_sd": _round(drift.mean_shift_sd.get(column.name), 3) if drift else None,
                }
            )
        )
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))


def _month_table(months: Sequence[MonthProfile]) -> dg.TableMetadataValue:
    columns = [
        dg.TableColumn("month", "string"),
        dg.TableColumn("objects", "int"),
        dg.TableColumn("rows", "int"),
        dg.TableColumn("quarantined", "int"),
        dg.TableColumn("quarantine_share", "float"),
        dg.TableColumn("previous_partition", "string"),
        dg.TableColumn("row_ratio_vs_previous", "float", description="rows per covered day, now / then"),
    ]
    records = [
        dg.TableRecord(
            {
                "month": month.month.strftime("%Y-%m"),
                "objects": month.objects,
                "rows": month.rows,
                "quarantined": month.quarantined,
                "quarantine_share": _round(month.quarantine_share),
                "previous_partition": month.drift.previous_month.strftime("%Y-%m") if month.drift else None,
                "row_ratio_vs_previous": _round(month.drift.row_ratio, 4) if month.drift else None,
            }
        )
        for month in months
    ]
    return dg.MetadataValue.table(records=records, schema=dg.TableSchema(columns=columns))
