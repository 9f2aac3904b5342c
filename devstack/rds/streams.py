"""Log streams: how each log type's files are named, grow, rotate and expire on the emulated clock.

Content is generated lazily and deterministically: time is cut into one-minute blocks, and block
`b` of log type `t` on instance `i` always holds the same entries (its RNG is seeded with
`seed:i:t:b`). A stream only materialises blocks when someone looks (catch-up to "now"), appends
them to its current file under the data dir, and rotates files as the clock crosses their limits.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

BLOCK = 60.0
HOUR = 3600.0
DAY = 86400.0


class Generator(Protocol):
    log_type: str
    mean_size: float

    def entry(self, r: random.Random, ts: float) -> bytes: ...


@dataclass(eq=False)
class LogFile:
    """One file as RDS keeps it. `name` is its final name (the ground truth's key); while it is the
    active file of a family whose active name is reused (e.g. `error/mysql-error-running.log`)
    it is listed under `alias`."""

    instance_id: str
    name: str
    log_type: str
    segment: str
    path: Path
    created: float
    granularity: float
    alias: str | None = None
    size: int = 0
    last_written: float = 0.0
    closed_at: float | None = None
    expires_at: float | None = None
    gz_size: int | None = None  # of the gzip copy, once made (gzip_old_postgres fault)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def listed_name(self) -> str:
        return self.alias if self.alias is not None and self.is_open else self.name

    def listed(self, now: float) -> bool:
        return self.expires_at is None or self.expires_at > now

    @property
    def last_written_ms(self) -> int:
        return int(self.last_written * 1000)

    def touch(self, ts: float) -> None:
        g = self.granularity
        stamped = math.ceil(ts / g) * g if g >= 1 else ts
        self.last_written = max(self.last_written, stamped)


Entry = tuple[float, bytes, int]


@dataclass
class StreamSpec:
    instance_id: str
    seed: int
    root: Path
    start: float
    rate: Callable[[], float]  # bytes per emulated second right now
    header: bytes = b""  # re-inserted at each flush (slow and general logs)
    lanes: int = 1
    # Seeds the content; stays the instance's first name when it is renamed (`instance_id` is the
    # current one), so that a name's new owner writes content of its own.
    seed_id: str = ""


class Stream:
    """A generator's entries laid out in files; subclasses decide names and rotation."""

    retention = DAY
    flush_every = 0.0  # content becomes visible only at multiples of this (error log: 5 min)
    granularity = 0.001

    def __init__(self, spec: StreamSpec, gen: Generator) -> None:
        self.spec = spec
        self.gen = gen
        self.files: list[LogFile] = []
        self.gen_until = spec.start
        self._block: tuple[int, list[Entry]] | None = None
        self._extra: list[Entry] = []
        self._buf: dict[int, tuple[LogFile, list[bytes]]] = {}
        self._open_first(spec.start)

    # -- subclass hooks --------------------------------------------------------------------
    def _open_first(self, t: float) -> None:
        raise NotImplementedError

    def _roll(self, t: float) -> None:
        """Rotate so that the current file is the one that covers time `t`."""

    def _target(self, ts: float, lane: int, size: int) -> LogFile:
        return self.files[-1]

    # -- shared ------------------------------------------------------------------------------
    def _new_file(self, name: str, segment: str, created: float, alias: str | None) -> LogFile:
        path = self.spec.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        f = LogFile(
            self.spec.instance_id,
            name,
            self.gen.log_type,
            segment,
            path,
            created,
            self.granularity,
            alias,
        )
        f.touch(created)
        self.files.append(f)
        return f

    def _close(self, f: LogFile, t: float) -> None:
        f.closed_at = t
        f.expires_at = max(t, f.last_written) + self.retention

    def forget_block(self) -> None:
        """Drop the cached block: the rate changed, so the rest of it is drawn again."""
        self._block = None

    def append(self, ts: float, data: bytes) -> LogFile:
        """Write `data` at the end of the current file now (an admin's test input)."""
        self._write(ts, data, 0)
        self._flush()
        return self.files[-1]

    def inject(self, ts: float, data: bytes) -> None:
        """Add an out-of-band entry (a reboot's messages) at `ts`, not before what exists."""
        self._extra.append((max(ts, self.gen_until), data, 0))
        self._extra.sort(key=lambda e: e[0])

    def _entries(self, b: int) -> list[Entry]:
        if self._block is not None and self._block[0] == b:
            return self._block[1]
        start = b * BLOCK
        sp = self.spec
        r = random.Random(f"{sp.seed}:{sp.seed_id or sp.instance_id}:{self.gen.log_type}:{b}")
        expected = max(0.0, sp.rate()) * BLOCK / self.gen.mean_size
        count = int(expected) + (1 if r.random() < expected - int(expected) else 0)
        stamps = sorted(start + r.random() * BLOCK for _ in range(count))
        lanes = sp.lanes
        entries: list[Entry] = [
            (ts, self.gen.entry(r, ts), int(r.random() * lanes)) for ts in stamps
        ]
        if sp.header and entries and b % 5 == 0:
            entries.insert(0, (entries[0][0], sp.header, 0))
        extra = [e for e in self._extra if start <= e[0] < start + BLOCK]
        if extra:
            self._extra = [e for e in self._extra if e not in extra]
            entries = sorted(entries + extra, key=lambda e: e[0])
        self._block = (b, entries)
        return entries

    def visible_until(self, now: float) -> float:
        if self.flush_every:
            return math.floor(now / self.flush_every) * self.flush_every
        return now

    def catch_up(self, now: float) -> None:
        target = self.visible_until(now)
        while self.gen_until < target:
            self._roll(self.gen_until)
            b = int(self.gen_until // BLOCK)
            upto = min(target, (b + 1) * BLOCK)
            lo = self.gen_until
            for ts, data, lane in self._entries(b):
                if lo <= ts < upto:
                    self._write(ts, data, lane)
            self.gen_until = upto
        self._roll(self.gen_until)
        self._flush()

    def _write(self, ts: float, data: bytes, lane: int) -> None:
        f = self._target(ts, lane, len(data))
        f.size += len(data)
        f.touch(ts)
        slot = self._buf.get(id(f))
        if slot is None:
            self._buf[id(f)] = (f, [data])
        else:
            slot[1].append(data)

    def _flush(self) -> None:
        for f, chunks in self._buf.values():
            with open(f.path, "ab") as out:
                out.write(b"".join(chunks))
        self._buf.clear()


def _utc(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


class HourlyStream(Stream):
    """Aurora MySQL error/slow/general: `base` is the active file; at each hour it becomes
    `base.YYYY-MM-DD.HH` and a new `base` starts. The rotated name pads the hour (public Aurora
    listings: `error/mysql-error-running.log.2021-07-27.09`) while the portion marker's segment
    does not (`2024-01-04.9:0`): nothing may build one from the other."""

    def __init__(self, spec: StreamSpec, gen: Generator, base: str, date_segment: bool) -> None:
        self.base = base
        self.date_segment = date_segment
        super().__init__(spec, gen)

    def _segment(self, hour: float) -> str:
        d = _utc(hour)
        return f"{d:%Y-%m-%d}.{d.hour}" if self.date_segment else str(d.hour)

    def _open_hour(self, hour: float) -> LogFile:
        d = _utc(hour)
        name = f"{self.base}.{d:%Y-%m-%d.%H}"
        return self._new_file(name, self._segment(hour), hour, self.base)

    def _open_first(self, t: float) -> None:
        f = self._open_hour(math.floor(t / HOUR) * HOUR)
        f.created = t

    def _roll(self, t: float) -> None:
        hour = math.floor(t / HOUR) * HOUR
        cur = self.files[-1]
        cur_hour = math.floor(cur.created / HOUR) * HOUR
        while cur_hour < hour:
            cur_hour += HOUR
            self._close(cur, cur_hour)
            cur = self._open_hour(cur_hour)


class ErrorStream(HourlyStream):
    retention = 30 * DAY
    flush_every = 300.0
    granularity = 300.0


class PostgresStream(Stream):
    """`error/postgresql.log.YYYY-MM-DD-HHMM`: a new file every hour (log_rotation_age 60) or
    when the current one passes log_rotation_size."""

    retention = 3 * DAY

    def __init__(self, spec: StreamSpec, gen: Generator, rotate_bytes: int) -> None:
        self.rotate_bytes = rotate_bytes
        super().__init__(spec, gen)

    def _open_at(self, t: float) -> LogFile | None:
        d = _utc(t)
        name = f"error/postgresql.log.{d:%Y-%m-%d-%H%M}"
        if self.files and self.files[-1].name == name:
            return None
        return self._new_file(name, str(d.hour), t, None)

    def _open_first(self, t: float) -> None:
        self._open_at(math.floor(t / HOUR) * HOUR)
        self.files[-1].created = t

    def _roll(self, t: float) -> None:
        hour = math.floor(t / HOUR) * HOUR
        cur = self.files[-1]
        while cur.created < hour and math.floor(cur.created / HOUR) * HOUR < hour:
            nxt = math.floor(cur.created / HOUR) * HOUR + HOUR
            self._close(cur, nxt)
            opened = self._open_at(nxt)
            assert opened is not None
            cur = opened

    def _target(self, ts: float, lane: int, size: int) -> LogFile:
        cur = self.files[-1]
        if cur.size and cur.size + size > self.rotate_bytes:
            minute = math.floor(ts / 60) * 60
            if _utc(minute).strftime("%Y-%m-%d-%H%M") != cur.name.rsplit(".", 1)[1]:
                self._close(cur, ts)
                opened = self._open_at(minute)
                if opened is not None:
                    return opened
        return self.files[-1]


class AuditStream(Stream):
    """`audit/audit.log.{0-3}.YYYY-MM-DD-HH-MM.{seq}`: four files written at once (entries spread
    over them), all rotated when together they pass the size limit."""

    granularity = 1.0

    def __init__(self, spec: StreamSpec, gen: Generator, rotate_bytes: int) -> None:
        self.rotate_bytes = rotate_bytes
        self.seq = 0
        self.current: list[LogFile] = []
        super().__init__(spec, gen)

    def _open_set(self, t: float) -> None:
        d = _utc(t)
        self.current = [
            self._new_file(
                f"audit/audit.log.{i}.{d:%Y-%m-%d-%H-%M}.{self.seq}", str(self.seq), t, None
            )
            for i in range(self.spec.lanes)
        ]

    def _open_first(self, t: float) -> None:
        self._open_set(t)

    def _target(self, ts: float, lane: int, size: int) -> LogFile:
        if sum(f.size for f in self.current) + size > self.rotate_bytes:
            for f in self.current:
                self._close(f, ts)
            self.seq += 1
            self._open_set(ts)
        return self.current[lane]


@dataclass
class EmptyErrorLog:
    """`error/mysql-error.log`: flushed into the running log every 5 minutes, so it is listed
    but never has bytes to download."""

    file: LogFile
    files: list[LogFile] = field(default_factory=list)

    def catch_up(self, now: float) -> None:
        self.file.last_written = math.floor(now / 300) * 300
