"""deploy/helm/values.yaml against the Dagster chart's documented keys, Dagster's instance schema and dagster.yaml.

There is no helm on these machines (Debian has none) and no network, so the chart is not rendered. Instead:
every key of the values must be one the chart documents (deploy/helm/chart_keys.json, derived from the chart's
values schema models, sources cited there); the instance settings the chart turns into dagster.yaml must pass
Dagster's own instance config schema and say what the repository's dagster.yaml says; no secret is in the values.
"""

import copy
import json
import re
import tomllib

import yaml
from dagster._config import validate_config
from dagster._core.instance.config import dagster_instance_config_schema

from tests.deploy.deploy_files import CHART_KEYS, HELM_VALUES, REPO_ROOT, helm_values


def unknown_keys(values, documented, path="") -> list[str]:
    """Dotted paths of `values` that `documented` (a chart_keys.json tree) does not list."""
    if documented is None or documented == "k8s":  # free-form, or a Kubernetes object checked in a Pod
        return []
    if isinstance(documented, list):
        if not isinstance(values, list):
            return [f"{path} (the chart expects a list)"]
        return [p for i, item in enumerate(values) for p in unknown_keys(item, documented[0], f"{path}[{i}]")]
    if not isinstance(values, dict):
        return [f"{path} (the chart expects a mapping)"]
    found = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in documented:
            found.append(where)
        else:
            found += unknown_keys(value, documented[key], where)
    return found


def chart_keys() -> dict:
    return json.loads(CHART_KEYS.read_text())["keys"]


def test_every_key_is_documented_by_the_chart():
    assert unknown_keys(helm_values(), chart_keys()) == []


def test_a_misspelt_or_misplaced_key_is_reported():
    values = copy.deepcopy(helm_values())
    values["concurrency"]["pools"]["defaultLimt"] = 8
    values["runLauncher"]["config"]["k8sRunLauncher"]["resource"] = {}
    values["dagster-user-deployments"]["deployments"][0]["envSecret"] = []
    values["dagsterDaemon"]["runCoordinator"]["config"] = {"queuedRunCoordinator": {"maxConcurrentRun": 3}}
    assert unknown_keys(values, chart_keys()) == [
        "dagster-user-deployments.deployments[0].envSecret",
        "runLauncher.config.k8sRunLauncher.resource",
        "dagsterDaemon.runCoordinator.config.queuedRunCoordinator.maxConcurrentRun",
        "concurrency.pools.defaultLimt",
    ]


def test_the_chart_version_is_the_pinned_dagster():
    pins = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    dagster = next(p.split("==")[1] for p in pins if p.startswith("dagster=="))
    assert f"--version {dagster}" in HELM_VALUES.read_text()
    assert f"version {dagster}" in HELM_VALUES.read_text().splitlines()[0]


def test_no_secret_in_the_values():
    values = helm_values()
    assert values["generatePostgresqlPasswordSecret"] is False
    assert values["postgresql"]["postgresqlPassword"] == ""
    text = HELM_VALUES.read_text()
    assert not re.search(r"://[^/\s:@]+:[^/\s@]+@", text), "credentials in a URL"

    def strings(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key, value
                yield from strings(value)
        elif isinstance(node, list):
            for item in node:
                yield from strings(item)

    for key, value in strings(values):
        if re.search(r"password|secretkey|token|access_?key", key, re.I) and isinstance(value, str):
            assert value == "", f"{key} holds a value"


def rendered_instance(values: dict) -> dict:
    """The dagster.yaml sections the chart writes from these values (its documented meaning of each key)."""
    pools, runs = values["concurrency"]["pools"], values["concurrency"]["runs"]
    instance = {
        "concurrency": {
            "pools": {"default_limit": pools["defaultLimit"], "granularity": pools["granularity"]},
            "runs": {
                "max_concurrent_runs": runs["maxConcurrentRuns"],
                "tag_concurrency_limits": runs["tagConcurrencyLimits"],
            },
        },
        "python_logs": {
            "python_log_level": values["pythonLogs"]["pythonLogLevel"],
            "managed_python_loggers": values["pythonLogs"]["managedPythonLoggers"],
        },
        "telemetry": {"enabled": values["telemetry"]["enabled"]},
    }
    return {**instance, **values["additionalInstanceConfig"]}


def test_the_instance_settings_pass_dagsters_instance_schema():
    result = validate_config(dagster_instance_config_schema(), rendered_instance(helm_values()))
    assert result.success, [error.message for error in result.errors]


def test_the_instance_settings_can_fail_the_schema():
    broken = rendered_instance(helm_values())
    broken["run_monitoring"]["free_slots_after_run_end"] = 60
    assert not validate_config(dagster_instance_config_schema(), broken).success


def test_the_instance_says_what_dagster_yaml_says_except_where_kubernetes_differs():
    repo = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    kubernetes = rendered_instance(helm_values())
    assert kubernetes["concurrency"]["runs"] == repo["concurrency"]["runs"]
    assert kubernetes["concurrency"]["pools"]["granularity"] == repo["concurrency"]["pools"]["granularity"]
    assert kubernetes["run_retries"] == repo["run_retries"]
    assert kubernetes["python_logs"] == repo["python_logs"]
    assert kubernetes["telemetry"] == repo["telemetry"]
    # The one difference in run monitoring: a run pod that dies is resumed once (the K8sRunLauncher can).
    assert repo["run_monitoring"]["max_resume_run_attempts"] == 0
    assert kubernetes["run_monitoring"]["max_resume_run_attempts"] == 1
    same = {k: v for k, v in kubernetes["run_monitoring"].items() if k != "max_resume_run_attempts"}
    assert same == {k: v for k, v in repo["run_monitoring"].items() if k != "max_resume_run_attempts"}
    # Monitoring and retries come only from additionalInstanceConfig, never twice.
    assert helm_values()["dagsterDaemon"]["runMonitoring"] == {"enabled": False}
    assert helm_values()["dagsterDaemon"]["runRetries"] == {"enabled": False}
