"""CPU and memory of each run's pod on Kubernetes, as `dagster-k8s/config` run tags (README "Scale out").

The K8sRunLauncher (deploy/helm/values.yaml) starts one pod per run and reads the run's `dagster-k8s/config` tag
for its container's resources. Runs without the tag (the ingestion runs of sensors and schedules, runs launched
from the asset graph) get the launcher's default in the Helm values, which is the `ingestion` size below. Jobs
and automation sensors that run dbt or the ML models carry a bigger size. Elsewhere (the embedded default, the
one-server deployment) the tag is inert: the default run launcher ignores it.

Sizes come from the end-to-end benchmark at demo scales 0.3-3 (benchmarks/sizing.py: peak RSS per run, embedded
chDB included, so an upper bound for a pod that talks to a ClickHouse server), rounded up with headroom. Memory
has a limit (a run past it is OOM-killed, and run_retries re-runs it); CPU has none (a limit only throttles).
Pure data and one function: no dagster import, so deploy tests and the Helm values read the same numbers.
"""

import json

K8S_CONFIG_TAG = "dagster-k8s/config"

# family -> the run container's resources (Kubernetes ResourceRequirements)
RUN_RESOURCES = {
    # source pulls and raw loads: Python parsing plus Arrow tables of one run's months
    "ingestion": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    # dbt (a subprocess sending SQL to the server, 8 threads) and the scoring of every model
    "transform": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
    # training: walk-forward backtests in scikit-learn over the features tables
    "ml": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
}


def k8s_run_tags(family: str) -> dict[str, str]:
    """The `dagster-k8s/config` run tag of a family's runs (tag values are strings: the launcher parses JSON)."""
    if family not in RUN_RESOURCES:
        raise KeyError(f"no Kubernetes run size for family {family!r}; known: {', '.join(RUN_RESOURCES)}")
    return {K8S_CONFIG_TAG: json.dumps({"container_config": {"resources": RUN_RESOURCES[family]}})}
