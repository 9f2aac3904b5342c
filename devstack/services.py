"""The two services as real processes on the local stack: start, watch, kill, restart, scrape.

The demo, the pipeline benchmark and the chaos suite all run `aurora-discovery run` and N
`aurora-processor run` the way a deployment does — separate processes, each with its own
`/metrics` port — so that a crash is a real SIGKILL and a rebalance a real consumer group's.
One place starts them, so those three agree on how (environment, ports, logs, stopping).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from devstack import procs
from devstack.stack import HOST

MODULES = {"discovery": "discovery.cli", "processor": "processor.cli"}


@dataclass
class ServiceProcess:
    """One running service: its name (`discovery`, `processor-1`...), process and ports."""

    name: str
    kind: str  # discovery | processor
    process: subprocess.Popen[bytes]
    metrics_port: int
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def metrics_url(self) -> str:
        return f"http://{HOST}:{self.metrics_port}/metrics"

    def metrics(self, timeout: float = 2.0) -> Samples:
        """The service's Prometheus samples now (empty when it does not answer)."""
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=timeout) as resp:
                text = resp.read().decode()
        except OSError:
            return Samples()
        return Samples.parse(text)


@dataclass
class Samples:
    """Prometheus samples by name: `{name: [(labels, value), ...]}`, with sums by label."""

    by_name: dict[str, list[tuple[dict[str, str], float]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Samples:
        by_name: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                by_name[sample.name].append((dict(sample.labels), float(sample.value)))
        return cls(dict(by_name))

    def total(self, name: str, **labels: str) -> float:
        """The sum of `name` over the samples whose labels include `labels`."""
        return sum(
            value
            for have, value in self.by_name.get(name, [])
            if all(have.get(k) == v for k, v in labels.items())
        )

    def by_label(self, name: str, label: str) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for have, value in self.by_name.get(name, []):
            out[have.get(label, "")] += value
        return dict(out)

    def __add__(self, other: Samples) -> Samples:
        merged: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
        for source in (self.by_name, other.by_name):
            for name, samples in source.items():
                merged[name].extend(samples)
        return Samples(dict(merged))


class Services:
    """Discovery and processors started against one stack's environment.

    `env` is the stack's (`Stack.env()`) plus any overrides (settings of both services);
    `per_kind` adds variables to one kind only. Logs go to `<log_dir>/<name>.log`.
    """

    def __init__(
        self,
        env: Mapping[str, str],
        log_dir: Path,
        per_kind: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.per_kind = {k: dict(v) for k, v in (per_kind or {}).items()}
        self.running: dict[str, ServiceProcess] = {}
        self._started: dict[str, int] = defaultdict(int)

    def start(
        self, kind: str, name: str | None = None, argv: Sequence[str] | None = None
    ) -> ServiceProcess:
        """Start one `discovery` or `processor`; a name already used restarts that service.
        `argv` replaces `python -m <module> run` (a container's command, as a chart gives it)."""
        if kind not in MODULES:
            raise ValueError(f"unknown service kind {kind!r}: one of {sorted(MODULES)}")
        self._started[kind] += 1
        name = name or (kind if kind == "discovery" else f"{kind}-{self._started[kind]}")
        old = self.running.get(name)
        if old is not None and old.alive:
            raise RuntimeError(f"{name} is still running (pid {old.pid}); stop or kill it first")
        port = procs.free_port(HOST)
        env = {
            **os.environ,
            **self.env,
            **self.per_kind.get(kind, {}),
            "METRICS_HOST": HOST,
            "METRICS_PORT": str(port),
        }
        log = self.log_dir / f"{name}.log"
        command = list(argv or [sys.executable, "-m", MODULES[kind], "run"])
        process = procs.spawn(command, log, env=env)
        service = ServiceProcess(name, kind, process, port, log)
        self.running[name] = service
        return service

    def wait_ready(self, service: ServiceProcess, timeout: float = 60.0) -> None:
        """Block until the service's `/healthz` answers (it has started its lifecycle)."""
        url = f"http://{HOST}:{service.metrics_port}/healthz"
        procs.wait_http(url, timeout, service.name, service.log)

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int | None:
        """Send `sig` to one service's process group; SIGKILL waits for it to be gone and
        returns its exit code (None for another signal, which the caller waits on itself)."""
        service = self.running[name]
        with contextlib.suppress(ProcessLookupError):  # already gone: what we wanted
            os.killpg(service.pid, sig)
        if sig == signal.SIGKILL:
            return service.process.wait(timeout=30)
        return None

    def processors(self) -> list[ServiceProcess]:
        return [s for s in self.running.values() if s.kind == "processor"]

    def metrics(self, kind: str | None = None) -> Samples:
        """The samples of every live service (of one kind), summed by `Samples.__add__`."""
        total = Samples()
        for service in self:
            if (kind is None or service.kind == kind) and service.alive:
                total = total + service.metrics()
        return total

    def __iter__(self) -> Iterator[ServiceProcess]:
        return iter(list(self.running.values()))

    def stop_all(self, timeout: float = 30.0) -> dict[str, int]:
        """SIGTERM every service (SIGKILL after `timeout`); their exit codes by name, negative
        for a signal (-9: it did not stop within `timeout`)."""
        return {s.name: procs.stop_process(s.process, timeout) for s in self}
