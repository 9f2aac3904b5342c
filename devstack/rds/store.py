"""Every instance's log files: created on first look, caught up to the clock on each look."""

from __future__ import annotations

import shutil
from pathlib import Path

from devstack.rds.config import Config
from devstack.rds.fleet import Fleet, Instance
from devstack.rds.foreign import foreign_files
from devstack.rds.gen_mysql import ErrorLog, GeneralLog, SlowLog, server_header
from devstack.rds.gen_other import AuditLog, PostgresLog
from devstack.rds.profile import Profile
from devstack.rds.streams import (
    AuditStream,
    EmptyErrorLog,
    ErrorStream,
    HourlyStream,
    LogFile,
    PostgresStream,
    Stream,
    StreamSpec,
)

# Aurora writes its audit log to several files at once, "the number of which varies based on
# instance size" (AuroraMySQL.Auditing); the rule is not published, so this table is ours.
AUDIT_FILES_BY_SIZE = {"large": 2, "xlarge": 3, "2xlarge": 4, "4xlarge": 6, "8xlarge": 8}


def audit_file_count(instance_class: str) -> int:
    """How many audit files an instance of this class writes at once (4 for a class not known)."""
    return AUDIT_FILES_BY_SIZE.get(instance_class.rsplit(".", 1)[-1], 4)


class InstanceLogs:
    def __init__(self, inst: Instance, config: Config, root: Path) -> None:
        self.inst = inst
        self.config = config
        self.root = root
        self.streams: list[Stream] = []
        self.empty: EmptyErrorLog | None = None
        self.profile = Profile.of(inst, config.seed)
        self.seed_id = inst.instance_id
        # Only the log types its parameter groups turn on have files (devstack.rds.params).
        self.enabled: set[str] = set(inst.log_types)
        start = max(config.start_time - config.history_hours * 3600, inst.history_start)
        self.foreign = foreign_files(inst, config.seed, root, start)
        for log_type in inst.log_types:
            self._add_stream(log_type, start)
        if inst.engine == "aurora-mysql":
            path = root / "error/mysql-error.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            self.empty = EmptyErrorLog(
                LogFile(inst.instance_id, "error/mysql-error.log", "error", "0", path, start, 300.0)
            )

    def _spec(self, log_type: str, start: float, header: bytes = b"", lanes: int = 1) -> StreamSpec:
        inst, config = self.inst, self.config

        def rate() -> float:
            if not inst.writing or log_type not in self.enabled:
                return 0.0
            return config.rates.get(log_type, 0.0) * config.rate_scale * inst.activity

        return StreamSpec(
            inst.instance_id, config.seed, self.root, start, rate, header, lanes, self.seed_id
        )

    def _add_stream(self, log_type: str, start: float) -> None:
        profile, spec = self.profile, self._spec
        if log_type == "error":
            self.error_gen = ErrorLog(profile)
            self._booter: ErrorLog | PostgresLog = self.error_gen
            stream: Stream = ErrorStream(
                spec("error", start), self.error_gen, "error/mysql-error-running.log", True
            )
        elif log_type in ("slowquery", "general"):
            gen = SlowLog(profile) if log_type == "slowquery" else GeneralLog(profile)
            base = f"{log_type}/mysql-{log_type}.log"
            stream = HourlyStream(spec(log_type, start, server_header(profile)), gen, base, False)
        elif log_type == "audit":
            stream = AuditStream(
                spec("audit", start, lanes=audit_file_count(self.inst.instance_class)),
                AuditLog(profile),
                self.config.audit_rotate_bytes,
            )
        else:
            pg = PostgresLog(profile)
            self._booter = pg
            stream = PostgresStream(spec("postgresql", start), pg, self.config.pg_rotate_bytes)
        self.streams.append(stream)

    def set_enabled(self, log_types: tuple[str, ...], now: float) -> None:
        """A parameter change on a live instance: a type turned off stops being written (its
        files age out); a type turned on gets files from `now` (caught up to it first)."""
        self.rate_changed(now)
        have = {s.gen.log_type for s in self.streams}
        for log_type in log_types:
            if log_type not in have:
                self._add_stream(log_type, now)
        self.enabled = set(log_types)

    def generated_until(self) -> float:
        return min(s.gen_until for s in self.streams)

    def catch_up(self, now: float) -> None:
        for s in self.streams:
            s.catch_up(now)
        if self.empty is not None:
            self.empty.catch_up(now)

    def all_files(self) -> list[LogFile]:
        files = [f for s in self.streams for f in s.files] + self.foreign
        if self.empty is not None:
            files.append(self.empty.file)
        return sorted(files, key=lambda f: f.name)

    def listed(self, now: float) -> list[LogFile]:
        return sorted((f for f in self.all_files() if f.listed(now)), key=lambda f: f.listed_name)

    def find(self, name: str, now: float) -> LogFile | None:
        for f in self.all_files():
            if f.listed_name == name and f.listed(now):
                return f
        return None

    def generation(self, name: str, segment: str) -> LogFile | None:
        """The newest file of an active-name family that had this marker segment (maybe rotated;
        an hour-only segment recurs every day)."""
        for s in self.streams:
            for f in reversed(s.files):
                if f.alias == name and f.segment == segment:
                    return f
        return None

    def append(self, log_type: str, data: bytes, now: float) -> LogFile:
        """Add `data` to the end of the current file of `log_type` (e.g. a line over 1 MiB)."""
        for s in self.streams:
            if s.gen.log_type == log_type:
                return s.append(now, data)
        raise ValueError(f"instance {self.inst.instance_id} has no {log_type} log")

    def reboot(self, now: float) -> None:
        self.catch_up(now)
        data = self._booter.boot(now)
        self.streams[0].inject(now, data)

    def rate_changed(self, now: float) -> None:
        """Catch up under the old rate, then forget cached blocks so what follows `now` is drawn
        under the new one (a stop, a pause, a resume)."""
        self.catch_up(now)
        for s in self.streams:
            s.forget_block()


class LogStore:
    def __init__(self, config: Config, fleet: Fleet) -> None:
        self.config = config
        self.fleet = fleet
        self.root = config.data_dir / "files"
        # Files are a function of (seed, clock): a previous run's would only contradict them.
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)
        self._logs: dict[str, InstanceLogs] = {}
        self._removed: dict[str, InstanceLogs] = {}

    def peek(self, instance_id: str) -> InstanceLogs | None:
        return self._logs.get(instance_id)

    def get(self, instance_id: str, now: float) -> InstanceLogs | None:
        """The instance's logs caught up to `now`, or None if no such instance exists."""
        logs = self._logs.get(instance_id)
        if logs is None:
            inst = self.fleet.instances.get(instance_id)
            if inst is None:
                return None
            # A directory per resource: a name can pass to another instance, a resource id cannot.
            logs = InstanceLogs(inst, self.config, self.root / inst.resource_id)
            self._logs[instance_id] = logs
        logs.catch_up(now)
        return logs

    def ground_truth(self, instance_id: str, now: float) -> InstanceLogs | None:
        """Also the logs of removed instances, as they were when removed (the last one removed
        under that name, if a name was reused)."""
        if instance_id in self.fleet.instances:
            return self.get(instance_id, now)
        gone = [logs for logs in self._removed.values() if logs.inst.instance_id == instance_id]
        return gone[-1] if gone else None

    def forget(self, instance_id: str, now: float) -> None:
        logs = self.get(instance_id, now)
        if logs is not None:
            # Keyed by resource id: a name can be reused, a resource id never is.
            self._removed[logs.inst.resource_id] = logs
            self._logs.pop(instance_id, None)

    def rename(self, old: str, new: str) -> None:
        """The instance's files follow it to its new name (they keep their paths on disk)."""
        logs = self._logs.pop(old, None)
        if logs is not None:
            self._logs[new] = logs
            for f in logs.all_files():
                f.instance_id = new
            for s in logs.streams:
                s.spec.instance_id = new

    def removed(self) -> list[InstanceLogs]:
        return list(self._removed.values())

    def known(self) -> list[str]:
        gone = {logs.inst.instance_id for logs in self._removed.values()}
        return sorted(set(self._logs) | gone)
