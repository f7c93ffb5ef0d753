"""The Kubernetes objects this project writes itself, validated offline against Kubernetes' own schemas.

kubernetes-validate (strict: an unknown field fails) checks the manifests of deploy/k8s/, the Secrets that
deploy/k8s/make_secrets.py prints, the run Job the K8sRunLauncher builds for each job's `dagster-k8s/config` tag
(built with dagster-k8s's own `construct_dagster_k8s_job`, from the Helm values' launcher settings), and the
Kubernetes-typed pieces of the Helm values inside a Pod. No cluster, no network.
"""

import base64
import json
import subprocess
import sys

import kubernetes_validate
import pytest
from dagster_k8s.container_context import K8sContainerContext
from dagster_k8s.job import (
    DagsterK8sJobConfig,
    UserDefinedDagsterK8sConfig,
    construct_dagster_k8s_job,
    get_user_defined_k8s_config,
)
from kubernetes.client import ApiClient

from orchestration.run_resources import K8S_CONFIG_TAG, RUN_RESOURCES
from tests.deploy.deploy_files import K8S_DIR, K8S_VERSION, helm_values, make_secrets_module, manifests

SECRET_ENV = {
    "CLICKHOUSE_URL": "https://importau:ch-pass@clickhouse.example.com:8443/",
    "S3_ACCESS_KEY_ID": "lake-key",
    "S3_SECRET_ACCESS_KEY": "lake-secret",
    "DAGSTER_PG_PASSWORD": "pg-pass",
    "ERP_RABBITMQ_URL": "amqp://erp:mq-pass@rabbitmq.example.com:5672/",
    "ALERT_WEBHOOK_URL": "https://hooks.example.com/T000/secret-token",
}


def validate(obj: dict) -> None:
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


@pytest.mark.parametrize("name,doc", manifests(), ids=lambda v: v if isinstance(v, str) else v.get("kind", "?"))
def test_each_manifest_is_valid_kubernetes(name, doc):
    validate(doc)


def test_a_wrong_field_fails_validation():
    """The validation can fail: a misspelt field of a manifest of this folder is refused."""
    name, doc = next((n, d) for n, d in manifests() if d["kind"] == "Deployment")
    broken = json.loads(json.dumps(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["envform"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(broken)


def test_secrets_are_valid_and_carry_the_environment(tmp_path):
    cert, key = tmp_path / "client.crt", tmp_path / "client.key"
    cert.write_bytes(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    env = {**SECRET_ENV, "OPEN_FINANCE_CERT_PATH": str(cert), "OPEN_FINANCE_KEY_PATH": str(key)}
    secrets = {s["metadata"]["name"]: s for s in make_secrets_module().build_secrets(env)}
    for secret in secrets.values():
        validate(secret)

    def decoded(name):
        return {k: base64.b64decode(v).decode() for k, v in secrets[name]["data"].items()}

    assert decoded("importau-clickhouse") == {"CLICKHOUSE_URL": SECRET_ENV["CLICKHOUSE_URL"]}
    assert decoded("importau-s3") == {"S3_ACCESS_KEY_ID": "lake-key", "S3_SECRET_ACCESS_KEY": "lake-secret"}
    assert decoded("importau-dagster-postgresql") == {"postgresql-password": "pg-pass"}
    # only the optional credentials that are set
    assert set(decoded("importau-sources")) == {"ERP_RABBITMQ_URL", "ALERT_WEBHOOK_URL"}
    assert decoded("importau-open-finance-certs") == {"tls.crt": cert.read_text(), "tls.key": key.read_text()}


def test_missing_credentials_are_named_all_at_once(tmp_path):
    module = make_secrets_module()
    env = {"CLICKHOUSE_URL": "https://u:p@h:8443/", "OPEN_FINANCE_CERT_PATH": str(tmp_path / "absent.crt")}
    with pytest.raises(module.SecretsError) as error:
        module.build_secrets(env)
    message = str(error.value)
    for name in ("S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "DAGSTER_PG_PASSWORD", "OPEN_FINANCE_KEY_PATH"):
        assert name in message
    assert "CLICKHOUSE_URL" not in message and "u:p" not in message


def test_script_prints_a_stream_for_kubectl_and_never_a_value_on_stderr():
    import yaml

    run = subprocess.run(
        [sys.executable, str(K8S_DIR / "make_secrets.py")],
        env={"PATH": "/usr/bin:/bin", **SECRET_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    docs = [d for d in yaml.safe_load_all(run.stdout) if d]
    assert [d["metadata"]["name"] for d in docs] == [
        "importau-clickhouse",
        "importau-s3",
        "importau-dagster-postgresql",
        "importau-sources",
    ]
    for value in SECRET_ENV.values():
        assert value not in run.stderr and value not in run.stdout  # base64 in stdout, nothing on stderr


def test_every_secret_and_configmap_named_by_values_and_manifests_exists():
    """The Helm values and the manifests only name Secrets/ConfigMaps/claims that deploy/ creates (or the chart)."""
    values = helm_values()
    env = {**SECRET_ENV, "OPEN_FINANCE_CERT_PATH": "", "OPEN_FINANCE_KEY_PATH": ""}
    created = {s["metadata"]["name"] for s in make_secrets_module().build_secrets(env)}
    created |= {make_secrets_module().CERT_SECRET}
    created |= {doc["metadata"]["name"] for _, doc in manifests()}
    created |= {values["global"]["dagsterInstanceConfigMap"]}  # the chart's instance ConfigMap, named in the values
    deployment = values["dagster-user-deployments"]["deployments"][0]
    named = {ref["name"] for ref in deployment["envConfigMaps"] + deployment["envSecrets"]}
    named |= {ref["name"] for ref in values["dagsterWebserver"]["envConfigMaps"]}
    named |= {ref["name"] for ref in values["dagsterDaemon"]["envConfigMaps"]}
    named.add(values["global"]["postgresqlSecretName"])
    for volume in deployment["volumes"]:
        named.add(volume.get("secret", {}).get("secretName") or volume["persistentVolumeClaim"]["claimName"])
    for _, doc in manifests():
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            named |= {src[k]["name"] for src in container.get("envFrom", []) for k in src}
            named |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env", []) if "valueFrom" in e}
        for volume in doc.get("spec", {}).get("template", {}).get("spec", {}).get("volumes", []):
            named.add(volume.get("configMap", {}).get("name") or volume.get("secret", {}).get("secretName"))
    assert named - created == set()


def run_job(tags: dict[str, str]) -> dict:
    """The Kubernetes Job the chart's K8sRunLauncher creates for a run with these tags, built the way
    K8sContainerContext.create_for_run and K8sRunLauncher._launch_k8s_job_with_args build it: the launcher's settings,
    then the code location's (includeConfigInLaunchedRuns), then the run's `dagster-k8s/config` tag."""
    values = helm_values()
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    deployment = values["dagster-user-deployments"]["deployments"][0]
    from_launcher = K8sContainerContext(
        image_pull_policy=launcher["imagePullPolicy"],
        service_account_name=values["global"]["serviceAccountName"],
        env_config_maps=[ref["name"] for ref in launcher["envConfigMaps"]],
        env_secrets=[ref["name"] for ref in launcher["envSecrets"]],
        env_vars=launcher["envVars"],
        volume_mounts=launcher["volumeMounts"],
        volumes=launcher["volumes"],
        namespace="importau",
        resources=launcher["resources"],
        security_context=launcher["securityContext"],
        run_k8s_config=UserDefinedDagsterK8sConfig.from_dict(
            {"pod_spec_config": launcher["runK8sConfig"]["podSpecConfig"]}
        ),
    )
    from_code_location = K8sContainerContext.create_from_config(
        {
            "k8s": {
                "env_config_maps": [ref["name"] for ref in deployment["envConfigMaps"]],
                "env_secrets": [ref["name"] for ref in deployment["envSecrets"]],
                "volume_mounts": deployment["volumeMounts"],
                "volumes": deployment["volumes"],
                "resources": deployment["resources"],
            }
        }
    )
    from_tags = K8sContainerContext(run_k8s_config=get_user_defined_k8s_config(tags))
    context = from_launcher.merge(from_code_location.merge(from_tags))
    job_config = DagsterK8sJobConfig(
        job_image=f"{deployment['image']['repository']}:0123abc",
        dagster_home="/opt/dagster/dagster_home",
        instance_config_map=values["global"]["dagsterInstanceConfigMap"],
        postgres_password_secret=values["global"]["postgresqlSecretName"],
    )
    job = construct_dagster_k8s_job(
        job_config,
        args=["dagster", "api", "execute_run", "{}"],
        job_name="dagster-run-0123456789abcdef",
        user_defined_k8s_config=context.run_k8s_config,
        component="run_worker",
        labels={"dagster/job": "transform"},
    )
    return ApiClient().sanitize_for_serialization(job)


def run_tags_of_every_run_source() -> dict[str, dict[str, str]]:
    """The run tags of every named job and automation sensor of the code location."""
    from orchestration.definitions import defs

    tags = {f"job {job.name}": dict(job.tags) for job in defs.jobs if not job.name.startswith("__")}
    for sensor in defs.sensors:
        run_tags = getattr(sensor, "run_tags", None)
        if run_tags is not None:
            tags[f"sensor {sensor.name}"] = dict(run_tags)
    return tags


def test_the_run_job_of_every_job_and_sensor_is_valid_and_sized():
    sized = set()
    for source, tags in run_tags_of_every_run_source().items():
        manifest = run_job(tags)  # dagster-k8s parses and checks the tag itself
        validate(manifest)
        assert manifest["spec"]["template"]["spec"]["securityContext"]["fsGroup"] == 10001, source
        resources = manifest["spec"]["template"]["spec"]["containers"][0]["resources"]
        expected = json.loads(tags[K8S_CONFIG_TAG])["container_config"]["resources"] if K8S_CONFIG_TAG in tags else None
        assert resources == (expected or helm_values()["runLauncher"]["config"]["k8sRunLauncher"]["resources"]), source
        if K8S_CONFIG_TAG in tags:
            sized.add(source)
    # the jobs and sensors that run dbt, the models or the sources all say their size
    for name in (
        "job transform",
        "job transform_daily",
        "job ingest_bcb",
        "sensor dbt_automation",
        "sensor ml_automation",
    ):
        assert name in sized


def test_the_launcher_default_is_the_ingestion_size():
    values = helm_values()
    assert values["runLauncher"]["config"]["k8sRunLauncher"]["resources"] == RUN_RESOURCES["ingestion"]
    assert values["dagster-user-deployments"]["deployments"][0]["resources"] == RUN_RESOURCES["ingestion"]


def test_kubernetes_typed_helm_values_are_valid_inside_a_pod():
    values = helm_values()
    deployment = values["dagster-user-deployments"]["deployments"][0]
    launcher = values["runLauncher"]["config"]["k8sRunLauncher"]
    containers = []
    for name, part in (
        ("code", deployment),
        ("webserver", values["dagsterWebserver"]),
        ("daemon", values["dagsterDaemon"]),
    ):
        container = {"name": name, "image": "example/image:1", "resources": part["resources"]}
        if "securityContext" in part:
            container["securityContext"] = part["securityContext"]
        if "volumeMounts" in part:
            container["volumeMounts"] = part["volumeMounts"]
        containers.append(container)
    containers.append(
        {
            "name": "run",
            "image": "example/image:1",
            "resources": launcher["resources"],
            "securityContext": launcher["securityContext"],
        }
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "values-check"},
        "spec": {
            "securityContext": deployment["podSecurityContext"],
            "containers": containers,
            "volumes": deployment["volumes"],
        },
    }
    validate(pod)
