"""The services run end to end on what the chart renders, not only validate it.

There is no cluster here, so the test plays the kubelet for the POC rendering: each container
runs its own command line (the image's ENTRYPOINT from its Dockerfile plus the container's
`args`, or its `command`), with the environment a pod would get (the ConfigMap, the Secret's keys,
the container's own `env`, the StatefulSet ordinal as SHARD_ID). Only three things differ from a
pod, and `WHERE_THE_SERVERS_ARE` names them: the in-cluster addresses of Kafka, Valkey and
OpenObserve and AWS's endpoints and keys become the local stack's (IRSA has no stand-in), and each
service gets its own metrics port (pods have a network namespace each, here they share loopback).
Everything else — table and bucket names, the RDS budget, intervals, replicas, log format — is the
chart's.

What it proves: the topic Job creates the topics with the POC's partitions; discovery and the
processor start on that configuration, pass the probes the chart declares (`/healthz`, `/readyz`
on the port it names) and the Dockerfiles' HEALTHCHECK; the fleet's rotated files reach S3 byte for
byte and OpenObserve once each; every metric an alert or the dashboard reads is exported by the
running services; and SIGTERM drains both within the pod's `terminationGracePeriodSeconds`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from common.aws import AwsClients
from common.log_types import LOG_TYPES
from common.settings import AwsSettings, KafkaSettings, S3Settings, TablesSettings
from devstack import procs
from devstack.demo.run import rotated_done
from devstack.measure import Measurement, emulated_now, measure
from devstack.pipeline import PipelineOptions, rds_args
from devstack.provision import create_bucket, create_tables, scoped_environ
from devstack.services import ServiceProcess, Services
from devstack.stack import HOST, Stack, StackOptions, StackState
from processor.metrics import DLQ_REASONS
from tests.deploy.conftest import (
    ROOT,
    alert_expressions,
    dashboard_expressions,
    documents,
    metric_names,
    one,
)
from tests.helpers import wait_for

# The Secret the chart refers to (`secrets.existingSecret`), as the operator would create it.
SECRET = {"OPENOBSERVE_PASS": "Poc#Secret-123"}
# Stack variables that replace where a pod finds its servers, and nothing else.
WHERE_THE_SERVERS_ARE = (
    "KAFKA_BROKERS",
    "VALKEY_URL",
    "OPENOBSERVE_URL",
    "AWS_ENDPOINT_URL_DYNAMODB",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ENDPOINT_URL_RDS",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
)
# A fleet whose last hourly rotation lies in its history and whose next one is far away: the
# first discovery cycle (the chart's POC interval is 120 s) sees every rotated file there is.
FLEET = PipelineOptions(
    instances=4,
    clock_speed=1.0,
    rotation_after_sec=900,
    history_hours=1.3,
    logging="all",
    profile="happy",
    audit_rotate_bytes=16 * 1024,
)
SERVICES = {"discovery": ("StatefulSet", "-discovery"), "processor": ("Deployment", "-processor")}


def _dockerfile_instruction(kind: str, instruction: str) -> list[str]:
    """The exec-form JSON array of an instruction (HEALTHCHECK: of its CMD) in Dockerfile.<kind>,
    continuation lines joined."""
    text = (ROOT / f"Dockerfile.{kind}").read_text().replace("\\\n", " ")
    (line,) = [ln for ln in text.splitlines() if ln.startswith(instruction + " ")]
    found = re.search(r"(\[.*\])\s*$", line)
    assert found, f"{instruction} of Dockerfile.{kind} is not in exec form: {line}"
    argv: list[str] = json.loads(found.group(1))
    return argv


def _pod_env(container: dict[str, Any], config: Mapping[str, str]) -> dict[str, str]:
    """The variables the kubelet gives `container`: envFrom the ConfigMap, then `env` (a Secret
    key that is absent and optional is skipped; the pod-index label is ordinal 0)."""
    assert container["envFrom"] == [{"configMapRef": {"name": "aurora-log-system-config"}}]
    env = dict(config)
    for var in container["env"]:
        if "value" in var:
            env[var["name"]] = var["value"]
            continue
        source = var["valueFrom"]
        if "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            assert ref["name"] == "aurora-log-system"
            if ref["key"] in SECRET:
                env[var["name"]] = SECRET[ref["key"]]
            else:
                assert ref.get("optional"), f"{ref['key']} is required but not in the Secret"
        else:
            field = source["fieldRef"]["fieldPath"]
            assert field == "metadata.labels['apps.kubernetes.io/pod-index']", field
            env[var["name"]] = "0"
    return env


class PocPods:
    """The POC rendering's containers, as commands and environments to run here."""

    def __init__(self, docs: list[dict[str, Any]], stack_env: Mapping[str, str]) -> None:
        self.docs = docs
        self.config: dict[str, str] = one(docs, "ConfigMap", "-config")["data"]
        self.stack_env = stack_env

    def workload(self, kind: str) -> dict[str, Any]:
        return one(self.docs, *SERVICES[kind])

    def container(self, kind: str) -> dict[str, Any]:
        (container,) = self.workload(kind)["spec"]["template"]["spec"]["containers"]
        return container

    def env(self, container: dict[str, Any]) -> dict[str, str]:
        """The pod's variables with the servers' addresses (only those) replaced."""
        env = _pod_env(container, self.config)
        env.update({k: self.stack_env[k] for k in WHERE_THE_SERVERS_ARE})
        return env

    def argv(self, kind: str) -> list[str]:
        container = self.container(kind)
        command = container.get("command") or _dockerfile_instruction(kind, "ENTRYPOINT")
        return [_executable(command[0]), *command[1:], *container.get("args", [])]

    def grace_sec(self, kind: str) -> int:
        grace: int = self.workload(kind)["spec"]["template"]["spec"][
            "terminationGracePeriodSeconds"
        ]
        return grace


def _executable(name: str) -> str:
    """`python` and the console scripts, from this virtual environment (the image's PATH)."""
    return sys.executable if name == "python" else str(Path(sys.executable).parent / name)


@pytest.fixture(scope="module")
def poc_docs(rendered: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    return [d for text in rendered["poc"].values() for d in documents(text)]


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, poc_docs: list[dict[str, Any]]
) -> Iterator[tuple[Stack, StackState]]:
    """A fresh local stack whose OpenObserve knows the chart's user and the Secret's password."""
    config = one(poc_docs, "ConfigMap", "-config")["data"]
    o2_auth = ["--user", config["OPENOBSERVE_USER"], "--password", SECRET["OPENOBSERVE_PASS"]]
    root = tmp_path_factory.mktemp("chart-stack")
    extra = {"rds": rds_args(FLEET, time.time()), "openobserve": o2_auth}
    stack = Stack(root, StackOptions(), extra_args=extra)
    state = stack.up()
    try:
        yield stack, state
    finally:
        stack.down()


async def _provision_as_terraform_would(env: dict[str, str]) -> KafkaSettings:
    """The tables and the bucket, under the chart's names (Terraform makes them in AWS); the
    Kafka settings the pods use."""
    with scoped_environ(env):
        clients = AwsClients(AwsSettings())
        await create_tables(clients, TablesSettings())
        await create_bucket(clients, S3Settings())
        return KafkaSettings()


async def _topics(settings: KafkaSettings) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if not t.startswith("__")]
        return {d["topic"]: len(d["partitions"]) for d in await admin.describe_topics(names)}
    finally:
        await admin.close()


async def _delete_topics(settings: KafkaSettings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if not t.startswith("__")]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


def _http_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0


def _exposed_series(text: str) -> set[str]:
    """Series names a scrape exposes, from its TYPE lines (a labelled family with no child yet
    still has one), with each type's suffixes."""
    names: set[str] = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, flags=re.MULTILINE):
        if kind == "counter":
            names.add(name if name.endswith("_total") else f"{name}_total")
        elif kind == "histogram":
            names.update(f"{name}{s}" for s in ("_bucket", "_sum", "_count"))
        else:
            names.add(name)
    return names


def _scrape(service: ServiceProcess) -> str:
    with urllib.request.urlopen(service.metrics_url, timeout=5) as resp:
        text: str = resp.read().decode()
    return text


async def test_the_services_run_end_to_end_on_the_poc_rendering(
    poc_docs: list[dict[str, Any]], stack: tuple[Stack, StackState], tmp_path: Path
) -> None:
    the_stack, state = stack
    pods = PocPods(poc_docs, the_stack.env(state))
    processor_env = pods.env(pods.container("processor"))
    kafka = await _provision_as_terraform_would(processor_env)
    await _delete_topics(kafka)  # the stack made them; here the chart's Job must

    # 1. The topic Job, as its container runs: every topic, with the POC's partitions.
    job = one(poc_docs, "Job", "-kafka-topics")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    argv = [_executable(container["command"][0]), *container["command"][1:], *container["args"]]
    done = await asyncio.to_thread(
        subprocess.run,
        argv,
        env={**os.environ, **pods.env(container)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    partitions = int(container["args"][0].removeprefix("--partitions="))
    wanted = [*kafka.topics().values(), kafka.kafka_topic_dlq]
    topics = await _topics(kafka)
    assert {t: topics.get(t) for t in wanted} == dict.fromkeys(wanted, partitions)

    # 2. Discovery and one processor, each on its container's command line and environment.
    per_kind = {kind: pods.env(pods.container(kind)) for kind in SERVICES}
    services = Services({}, tmp_path / "services", per_kind)
    try:
        started = {kind: services.start(kind, kind, pods.argv(kind)) for kind in SERVICES}
        await _wait_ready(services, started)
        since = await emulated_now(processor_env["AWS_ENDPOINT_URL_RDS"])
        begun = time.time()

        # 3. The fleet's rotated files: in S3 byte for byte, in OpenObserve once each.
        async def settled() -> Measurement | None:
            m = await measure(processor_env, services, since, time.time() - begun)
            return m if rotated_done(m) else None

        m = await wait_for(settled, timeout=120, interval=1.0)
        for log_type, v in m.volumes.items():
            assert v.rotated > 0 and v.archived == v.rotated, (log_type, v)
            assert v.archived_twice == 0 and v.duplicate_events == 0, (log_type, v)
            assert v.events_stored == v.events_acknowledged, (log_type, v)
        assert set(m.volumes) == {str(t) for t in LOG_TYPES}
        assert all(v.events_stored > 0 for v in m.volumes.values())

        # 4. Every metric the alerts and the dashboard read, exported by the running services;
        # the counters `increase() > 0` alerts read exist at 0 before their first event.
        scrapes = {kind: _scrape(s) for kind, s in started.items()}
        exposed = set().union(*(_exposed_series(text) for text in scrapes.values()))
        from_zero = {
            "processor": [
                *(f'aurora_processor_dlq_messages_total{{reason="{r}"}}' for r in DLQ_REASONS),
                f'aurora_dynamodb_throttles_total{{table="{processor_env["TRACKING_TABLE"]}"}}',
            ],
            "discovery": [
                f'aurora_kafka_publish_failures_total{{topic="{t}"}}'
                for t in kafka.topics().values()
            ],
        }
        for kind, series in from_zero.items():
            present = set(re.findall(r"^(\S+) ", scrapes[kind], flags=re.MULTILINE))
            assert set(series) <= present, (kind, set(series) - present)
        used = {
            name
            for expr in (*alert_expressions(), *dashboard_expressions())
            for name in metric_names(expr)
        }
        assert used - exposed == set()

        # 5. The Dockerfiles' HEALTHCHECK, against each running service.
        for kind, service in started.items():
            check = _dockerfile_instruction(kind, "HEALTHCHECK")
            env = {**os.environ, "METRICS_PORT": str(service.metrics_port)}
            argv = [_executable(check[0]), *check[1:]]
            ran = await asyncio.to_thread(
                subprocess.run, argv, env=env, capture_output=True, timeout=10
            )
            assert ran.returncode == 0, ran.stderr

        # 6. SIGTERM: each drains and exits 0 within its pod's grace period.
        for kind, service in started.items():
            code = procs.stop_process(service.process, timeout=pods.grace_sec(kind))
            assert code == 0, f"{kind} exited {code}; log {service.log}"
    finally:
        services.stop_all(timeout=10)


async def _wait_ready(services: Services, started: Mapping[str, ServiceProcess]) -> None:
    """Both pass the chart's probes, `/healthz` and `/readyz` (on the port each was given here;
    `test_the_probes_port_is_the_services_metrics_port` holds the chart's to METRICS_PORT)."""

    async def ready() -> bool:
        statuses = await asyncio.gather(
            *(
                asyncio.to_thread(_http_status, f"http://{HOST}:{s.metrics_port}{path}")
                for s in started.values()
                for path in ("/healthz", "/readyz")
            )
        )
        dead = [s.name for s in started.values() if not s.alive]
        assert not dead, f"{dead} exited; logs under {services.log_dir}"
        return all(code == 200 for code in statuses)

    await wait_for(ready, timeout=60, interval=0.2)


def test_the_probes_port_is_the_services_metrics_port(poc_docs: list[dict[str, Any]]) -> None:
    """The probes name the port `metrics`, which must be where the service listens: the
    container port and METRICS_PORT of the ConfigMap are one number."""
    pods = PocPods(poc_docs, {k: "" for k in WHERE_THE_SERVERS_ARE})
    for kind in SERVICES:
        container = pods.container(kind)
        (port,) = container["ports"]
        assert port["name"] == "metrics"
        assert pods.env(container)["METRICS_PORT"] == str(port["containerPort"])
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert container[probe]["httpGet"]["port"] == "metrics"
