"""The emulator's state, shared by the API, the download endpoint and the admin API."""

from __future__ import annotations

import asyncio
import gzip
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from devstack.rds.clock import Clock
from devstack.rds.config import Config
from devstack.rds.errors import instance_not_found
from devstack.rds.faults import Faults
from devstack.rds.fleet import Fleet
from devstack.rds.lifecycle import Lifecycle
from devstack.rds.stats import Stats
from devstack.rds.store import InstanceLogs, LogStore
from devstack.rds.streams import LogFile
from devstack.rds.throttle import Throttle

# Catching up more than this much emulated time runs in a worker thread, so that a first look at
# a busy instance does not stall every other request.
THREAD_CATCH_UP_SEC = 120.0


class Emulator:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.clock = Clock(config.start_time, config.clock_speed)
        self.fleet = Fleet(config)
        self.store = LogStore(config, self.fleet)
        self.faults = Faults(config.profile)
        self.stats = Stats()
        # Signing keys the complete download accepts: the configured one, and any registered
        # at run time (`POST /_admin/keys`: an assumed role's, as IAM would know it).
        self.keys: dict[str, str] = {config.access_key: config.secret_key}
        self.throttle = Throttle(
            config.throttle_burst, config.throttle_rate, config.throttle_code, config.throttle
        )
        self.fault_rng = random.Random(f"faults:{config.seed}")
        self.gz_dir = config.data_dir / "gz"
        self._locks: dict[str, asyncio.Lock] = {}
        self.lifecycle = Lifecycle()

    def move_lock(self, old: str, new: str) -> None:
        """A renamed instance keeps its lock (held by the renamer) under its new name."""
        lock = self._locks.pop(old, None)
        if lock is not None:
            self._locks[new] = lock

    def now(self) -> float:
        return self.clock.now()

    @asynccontextmanager
    async def logs(self, instance_id: str) -> AsyncIterator[tuple[InstanceLogs, float]]:
        """The instance's logs caught up to now, held exclusively while the caller reads them."""
        if instance_id not in self.fleet.instances:
            raise instance_not_found(instance_id)
        lock = self._locks.setdefault(instance_id, asyncio.Lock())
        async with lock:
            now = self.now()
            self.fleet.refresh(now, instance_id)
            existing = self.store.peek(instance_id)
            lag = now - existing.generated_until() if existing else now - self.config.start_time
            if lag > THREAD_CATCH_UP_SEC:
                await asyncio.to_thread(self.store.get, instance_id, now)
            logs = self.store.get(instance_id, now)
            if logs is None:
                raise instance_not_found(instance_id)
            yield logs, now

    def gzip_copy(self, f: LogFile) -> Path:
        """A closed file's gzip copy (made once; mtime 0 so its bytes are deterministic)."""
        rel = f.path.relative_to(self.store.root)  # per resource: names pass between instances
        path = self.gz_dir / rel.with_name(rel.name + ".gzdata")
        if f.gz_size is None or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with (
                open(f.path, "rb") as src,
                open(path, "wb") as raw,
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
            ):
                while chunk := src.read(1 << 20):
                    gz.write(chunk)
            f.gz_size = path.stat().st_size
        return path
