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
        self.streams: list[Stream] = []
        self.empty: EmptyErrorLog | None = None
        profile = Profile.of(inst, config.seed)
        start = config.start_time - config.history_hours * 3600
        self.foreign = foreign_files(inst, config.seed, root, start)

        def spec(log_type: str, header: bytes = b"", lanes: int = 1) -> StreamSpec:
            def rate() -> float:
                if inst.status == "stopped":
                    return 0.0
                return config.rates.get(log_type, 0.0) * config.rate_scale * inst.activity

            return StreamSpec(inst.instance_id, config.seed, root, start, rate, header, lanes)

        if inst.engine == "aurora-mysql":
            self.error_gen = ErrorLog(profile)
            self.streams.append(
                ErrorStream(spec("error"), self.error_gen, "error/mysql-error-running.log", True)
            )
            header = server_header(profile)
            self.streams.append(
                HourlyStream(
                    spec("slowquery", header),
                    SlowLog(profile),
                    "slowquery/mysql-slowquery.log",
                    False,
                )
            )
            self.streams.append(
                HourlyStream(
                    spec("general", header), GeneralLog(profile), "general/mysql-general.log", False
                )
            )
            self.streams.append(
                AuditStream(
                    spec("audit", lanes=audit_file_count(inst.instance_class)),
                    AuditLog(profile),
                    config.audit_rotate_bytes,
                )
            )
            path = root / "error/mysql-error.log"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"")
            self.empty = EmptyErrorLog(
                LogFile(inst.instance_id, "error/mysql-error.log", "error", "0", path, start, 300.0)
            )
            self._booter: ErrorLog | PostgresLog = self.error_gen
        else:
            pg = PostgresLog(profile)
            self.streams.append(PostgresStream(spec("postgresql"), pg, config.pg_rotate_bytes))
            self._booter = pg

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
            logs = InstanceLogs(inst, self.config, self.root / instance_id)
            self._logs[instance_id] = logs
        logs.catch_up(now)
        return logs

    def ground_truth(self, instance_id: str, now: float) -> InstanceLogs | None:
        """Also the logs of removed instances, as they were when removed."""
        if instance_id in self.fleet.instances:
            return self.get(instance_id, now)
        return self._removed.get(instance_id)

    def forget(self, instance_id: str, now: float) -> None:
        logs = self.get(instance_id, now)
        if logs is not None:
            self._removed[instance_id] = logs
            self._logs.pop(instance_id, None)

    def known(self) -> list[str]:
        return sorted(set(self._logs) | set(self._removed))
