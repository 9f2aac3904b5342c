"""The Helm chart: strict lint and schema, Kubernetes schemas of everything it renders, and what
the issue asks of the objects (restricted pods, probes, shards, autoscaling, zones, arm64)."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

import helm_python
import kubernetes_validate
import pytest
import yaml
from helm_python import Chart

from common.settings import GROUPS, KafkaSettings, ObservabilitySettings, _env_name, load_settings
from tests.deploy.conftest import CHART, KUBE_VERSION, by_kind, one

VALUES_FILES = ["values.yaml", "values-poc.yaml", "values-production.yaml"]
WORKLOADS = ("Deployment", "StatefulSet", "Job")
CRD_KINDS = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}


def _values(name: str) -> dict[str, Any]:
    if name == "values.yaml":
        return {}
    loaded: dict[str, Any] = yaml.safe_load((CHART / name).read_text())
    return loaded


def _lint(values: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = helm_python.lint(
        str(CHART), values, strict=True, namespace="aurora", kube_version=f"v{KUBE_VERSION}"
    )
    return result


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_strict_passes(values_file: str) -> None:
    result = _lint(_values(values_file))
    assert result["errors"] == []
    # severity 1 is INFO ("icon is recommended"); warnings and errors fail.
    assert [m for m in result["messages"] if m["severity"] > 1] == []


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"config": {"SHARD_ID": "1"}}, "SHARD_ID"),  # the chart sets it from the pod index
        ({"config": {"KAFKA_SASL_MECHANISM": "GSSAPI"}}, "KAFKA_SASL_MECHANISM"),
        ({"discovery": {"image": {"repository": "x", "tag": "latest"}}}, "latest"),
        ({"processor": {"keda": {"schedules": [{"name": "x"}]}}}, "desiredReplicas"),
        ({"discovery": {"shards": 0}}, "minimum"),
    ],
)
def test_the_schema_refuses_bad_values(values: dict[str, Any], complaint: str) -> None:
    result = _lint(values)
    assert result["errors"], values
    assert any(complaint in e or "schema" in e for e in result["errors"])


def test_every_rendered_object_passes_kubernetes_strict_validation(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = env_docs
    checked = 0
    for doc in docs:
        if doc["kind"] in CRD_KINDS:
            continue  # no schema ships for CRDs; test_custom_resources checks them
        kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        checked += 1
    assert checked >= 15


def _pod_specs(docs: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"])
        for d in docs
        if d["kind"] in WORKLOADS
    ]


def test_every_pod_meets_the_restricted_pod_security_standard(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = env_docs
    for name, pod in _pod_specs(docs):
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] >= 10000, name
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        for c in pod["containers"] + pod.get("initContainers", []):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, (name, c["name"])
            assert sc["readOnlyRootFilesystem"] is True, (name, c["name"])
            assert sc["capabilities"]["drop"] == ["ALL"], (name, c["name"])
            assert "limits" in c["resources"] and "requests" in c["resources"], (name, c["name"])
            assert not c["image"].endswith(":latest"), (name, c["name"])


def test_namespace_enforces_the_restricted_standard(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = env_docs
    (ns,) = by_kind(docs, "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_services_probe_healthz_and_readyz_on_the_metrics_port(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = env_docs
    for kind, suffix in (("StatefulSet", "-discovery"), ("Deployment", "-processor")):
        (c,) = one(docs, kind, suffix)["spec"]["template"]["spec"]["containers"]
        assert c["args"] == ["run"]
        assert c["ports"] == [{"name": "metrics", "containerPort": 9090}]
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert {m["mountPath"] for m in c["volumeMounts"]} == {"/tmp"}


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_discovery_shards_are_the_statefulset_ordinals(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    env, docs = env_docs
    sts = one(docs, "StatefulSet", "-discovery")
    env_vars = _env(sts["spec"]["template"]["spec"]["containers"][0])
    assert env_vars["TOTAL_SHARDS"] == str(sts["spec"]["replicas"])
    assert env_vars["SHARD_ID"] == {
        "fieldRef": {"fieldPath": "metadata.labels['apps.kubernetes.io/pod-index']"}
    }
    assert sts["spec"]["replicas"] == {"poc": 1, "production": 3}[env]


def test_secrets_come_from_an_existing_secret_and_config_names_real_settings(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    _, docs = env_docs
    known = {_env_name(cls, f) for cls in GROUPS for f in cls.model_fields}
    assert not by_kind(docs, "Secret")  # the chart never holds a password
    cm = one(docs, "ConfigMap", "-config")
    assert set(cm["data"]) <= known, set(cm["data"]) - known
    for _, pod in _pod_specs(docs):
        for c in pod["containers"]:
            if "/aurora-" not in c["image"]:
                continue  # the POC's Kafka, Valkey and OpenObserve have their own variables
            for name, source in _env(c).items():
                assert name in known, name
                if name in ("OPENOBSERVE_PASS", "KAFKA_SASL_PASSWORD"):
                    assert source["secretKeyRef"]["name"] == "aurora-log-system"


def test_each_service_starts_with_valid_settings_from_what_the_chart_renders(
    env_docs: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ConfigMap plus each container's own env, as the pod would see them, load without a
    `SettingsError` (the services validate their configuration before anything starts): the
    chart and the code agree on names *and* values (ranges, enums, formats)."""
    _, docs = env_docs
    data = one(docs, "ConfigMap", "-config")["data"]
    checked = 0
    for _, pod in _pod_specs(docs):
        for c in pod["containers"]:
            if "/aurora-" not in c["image"]:
                continue
            plain = {k: v for k, v in _env(c).items() if isinstance(v, str)}
            for name in [n for n in os.environ if n.isupper()]:
                monkeypatch.delenv(name, raising=False)
            for name, value in {**data, **plain}.items():
                monkeypatch.setenv(name, value)
            monkeypatch.setenv("SHARD_ID", "0")  # the StatefulSet ordinal, from a fieldRef
            load_settings()  # raises SettingsError naming the variable
            checked += 1
    assert checked >= 2  # discovery and processor at least


def test_pods_run_on_arm64_spread_across_zones(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    env, docs = env_docs
    for name, pod in _pod_specs(docs):
        assert pod["nodeSelector"]["kubernetes.io/arch"] == "arm64", name
    if env == "production":
        for kind, suffix in (("StatefulSet", "-discovery"), ("Deployment", "-processor")):
            pod = one(docs, kind, suffix)["spec"]["template"]["spec"]
            zones = [
                t
                for t in pod["topologySpreadConstraints"]
                if t["topologyKey"] == "topology.kubernetes.io/zone"
            ]
            assert zones and zones[0]["whenUnsatisfiable"] == "DoNotSchedule"


def test_processors_autoscale_and_pdbs_protect_both_services(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    env, docs = env_docs
    assert {
        p["metadata"]["name"].rsplit("-", 1)[-1] for p in by_kind(docs, "PodDisruptionBudget")
    } == {
        "discovery",
        "processor",
    }
    scaled = one(docs, "ScaledObject", "-processor")["spec"]
    triggers = scaled["triggers"]
    kafka = [t for t in triggers if t["type"] == "kafka"]
    # One trigger per log type (common/log_types.py), on the services' own topic names.
    assert {t["metadata"]["topic"] for t in kafka} == set(KafkaSettings().topics().values())
    assert {t["metadata"]["consumerGroup"] for t in kafka} == {"aurora-processor-group"}
    assert any(t["type"] == "cpu" for t in triggers)  # CPU stays a signal under KEDA
    cron = [t for t in triggers if t["type"] == "cron"]
    assert cron, "scheduled scaling"
    if env == "poc":
        assert scaled["minReplicaCount"] == 0  # zero outside working hours, weekends included
        assert all(t["metadata"]["start"].endswith("1-5") for t in cron)
    else:
        assert kafka[0]["metadata"]["sasl"] == "aws_msk_iam"
    deployment = one(docs, "Deployment", "-processor")
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count


def _render_objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    chart = Chart.load(str(CHART))
    try:
        out = chart.render(values, name="aurora-log-system", namespace="aurora")
    finally:
        chart.close()
    return [d for text in out.values() for d in yaml.safe_load_all(text) if d]


def test_default_values_give_a_cpu_hpa() -> None:
    hpa = one(_render_objects({}), "HorizontalPodAutoscaler", "-processor")
    metric = hpa["spec"]["metrics"][0]["resource"]
    assert metric["name"] == "cpu" and metric["target"]["averageUtilization"] == 70


@pytest.mark.parametrize(
    ("processor", "most_pods"),
    [
        ({}, 12 + 1),  # the default CPU HPA's maximum, plus the rolling update's surge
        ({"keda": {"enabled": True, "maxReplicaCount": 24}}, 24 + 1),  # KEDA owns the HPA
        ({"hpa": {"enabled": False}, "replicas": 3, "maxSurge": 2}, 3 + 2),
        ({"hpa": {"enabled": False}, "replicas": 0, "maxSurge": 0}, 1),  # the setting's floor
    ],
)
def test_each_processors_budget_share_counts_every_pod_that_may_run_at_once(
    processor: dict[str, Any], most_pods: int
) -> None:
    """PROCESSOR_REPLICAS divides the RDS budget among processors while Valkey is unreachable:
    it must be the most pods that can run together, or they overspend the account's budget.
    (Regression: it was the HPA's maximum even when KEDA scaled to 24, and ignored the surge.)"""
    docs = _render_objects({"processor": processor})
    deployment = one(docs, "Deployment", "-processor")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert _env(container)["PROCESSOR_REPLICAS"] == str(most_pods)
    surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    assert surge == processor.get("maxSurge", 1)


def test_lag_triggers_follow_renamed_topics() -> None:
    values = {"processor": {"keda": {"enabled": True}}, "config": {"KAFKA_TOPIC_AUDIT": "x-audit"}}
    scaled = one(_render_objects(values), "ScaledObject", "-processor")
    topics = {t["metadata"]["topic"] for t in scaled["spec"]["triggers"] if t["type"] == "kafka"}
    assert "x-audit" in topics and "aurora-logs-audit" not in topics


def test_kafka_topics_job_uses_the_environments_replication(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    env, docs = env_docs
    job = one(docs, "Job", "-kafka-topics")
    (c,) = job["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["python", "-m", "common.kafka_topics"]
    assert f"--replication-factor={ {'poc': 1, 'production': 3}[env] }" in c["args"]
    assert job["spec"]["template"]["spec"]["serviceAccountName"].endswith("-processor")


def test_kafka_security_per_environment(env_docs: tuple[str, list[dict[str, Any]]]) -> None:
    env, docs = env_docs
    data = one(docs, "ConfigMap", "-config")["data"]
    if env == "production":
        assert data["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
        assert data["KAFKA_SASL_MECHANISM"] == "OAUTHBEARER"
        assert data["VALKEY_URL"].startswith("rediss://")
        assert not [d for d in docs if d["metadata"]["name"].endswith(("-kafka", "-valkey"))]
    else:  # in-cluster services of the POC, wired by the chart
        assert data["KAFKA_BROKERS"] == "aurora-log-system-kafka:9092"
        assert data["VALKEY_URL"] == "redis://aurora-log-system-valkey:6379/0"
        assert data["OPENOBSERVE_URL"] == "http://aurora-log-system-openobserve:5080"
        for suffix in ("-kafka", "-valkey", "-openobserve"):
            one(docs, "Service", suffix)
            one(docs, "NetworkPolicy", suffix)


def test_service_accounts_carry_irsa_or_rely_on_pod_identity(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    env, docs = env_docs
    for sa in by_kind(docs, "ServiceAccount"):
        annotations = sa["metadata"].get("annotations", {})
        if env == "poc":  # IRSA
            assert annotations["eks.amazonaws.com/role-arn"].startswith("arn:aws:iam::")
        else:  # Pod Identity: the association is in Terraform
            assert "eks.amazonaws.com/role-arn" not in annotations


def test_network_policies_cover_every_pod(env_docs: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = env_docs
    selectors = [p["spec"]["podSelector"]["matchLabels"] for p in by_kind(docs, "NetworkPolicy")]
    for name, pod_template in (
        (d["metadata"]["name"], d["spec"]["template"]) for d in docs if d["kind"] in WORKLOADS
    ):
        labels = pod_template["metadata"]["labels"]
        assert any(all(labels.get(k) == v for k, v in s.items()) for s in selectors), name


def _ports_of(config: dict[str, str]) -> set[int]:
    """The TCP ports the services dial, from the addresses in their configuration."""
    ports = {443}  # the AWS APIs (RDS, S3, DynamoDB, STS)
    for broker in config["KAFKA_BROKERS"].split(","):
        ports.add(int(broker.rsplit(":", 1)[1]))
    for url in (config["VALKEY_URL"], config["OPENOBSERVE_URL"]):
        parsed = urlsplit(url)
        ports.add(
            parsed.port or {"https": 443, "http": 80, "rediss": 6379, "redis": 6379}[parsed.scheme]
        )
    return ports


def test_network_policies_let_each_service_reach_what_its_configuration_names(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    """A NetworkPolicy that forgets a port the configuration names (Kafka on MSK IAM's 9098,
    OpenObserve on its own port) makes the pod time out on start, not fail a lint."""
    _, docs = env_docs
    config = one(docs, "ConfigMap", "-config")["data"]
    for component in ("discovery", "processor", "kafka-topics"):
        policy = one(docs, "NetworkPolicy", f"-{component}")["spec"]
        open_ports = {p["port"] for rule in policy["egress"] for p in rule.get("ports", [])}
        assert _ports_of(config) <= open_ports, (component, _ports_of(config) - open_ports)
        if component != "kafka-topics":  # Prometheus scrapes the metrics port
            ingress = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
            assert int(config["METRICS_PORT"]) in ingress


def test_each_pod_has_time_to_drain_before_it_is_killed(
    env_docs: tuple[str, list[dict[str, Any]]],
) -> None:
    """The kubelet SIGKILLs after terminationGracePeriodSeconds: the service's own deadline
    (SHUTDOWN_TIMEOUT_SEC) must end first, with room for the interpreter to exit."""
    _, docs = env_docs
    config = one(docs, "ConfigMap", "-config")["data"]
    deadline = float(
        config.get(
            "SHUTDOWN_TIMEOUT_SEC",
            ObservabilitySettings.model_fields["shutdown_timeout_sec"].default,
        )
    )
    for kind, suffix in (("StatefulSet", "-discovery"), ("Deployment", "-processor")):
        grace = one(docs, kind, suffix)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert grace >= deadline + 10, (suffix, grace, deadline)


def test_custom_resources(env_docs: tuple[str, list[dict[str, Any]]]) -> None:
    _, docs = env_docs
    monitor = one(docs, "ServiceMonitor", "")
    services = [
        s
        for s in by_kind(docs, "Service")
        if s["metadata"]["labels"].get("app.kubernetes.io/component") in ("discovery", "processor")
    ]
    assert len(services) == 2
    for s in services:
        assert [p["name"] for p in s["spec"]["ports"]] == [monitor["spec"]["endpoints"][0]["port"]]
        assert all(
            s["metadata"]["labels"][k] == v
            for k, v in monitor["spec"]["selector"]["matchLabels"].items()
        )
    rules = [r for g in one(docs, "PrometheusRule", "")["spec"]["groups"] for r in g["rules"]]
    for r in rules:
        assert r["alert"].startswith("AuroraLogs") and r["expr"].strip()
        assert r["labels"]["severity"] in ("info", "warning", "critical")
    exprs = {r["alert"]: " ".join(r["expr"].split()) for r in rules}
    # The seed's thresholds.
    assert exprs["AuroraLogsRdsApiErrors"].endswith("* 60 > 10")
    assert exprs["AuroraLogsConsumerLag"].endswith("> 1000")
    assert exprs["AuroraLogsProcessorErrorRate"].endswith("> 0.05")
    assert exprs["AuroraLogsDynamoDbThrottling"].endswith("> 0")
    assert exprs["AuroraLogsS3UploadFailures"].endswith("> 0.01")
    for own in ("RdsBudgetExhausted", "FilesStuck", "DeadLettersGrowing", "FilesBehindGrowing"):
        assert f"AuroraLogs{own}" in exprs
