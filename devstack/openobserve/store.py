"""On-disk storage of the emulator: one SQLite database per organisation, one table per stream.

A stream's table has one column per field ever seen (no declared type, so values are kept as
sent), indexed on `_timestamp` and on the `--index-fields` (`batch_id`, which the client's
reconciliation queries). The stream's schema (field -> Arrow-like type, fixed by the first value
and widened by a wider one) and its stats live beside it. WAL mode and one transaction per
request make a request all-or-nothing and keep it on disk across a restart. Every method is
synchronous and is meant to run on one dedicated thread (the app's executor), which serialises
access.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devstack.openobserve import sql as o2sql
from devstack.openobserve.ingest import TIMESTAMP_COL, Row, now_micros
from devstack.openobserve.visibility import Visibility

_TYPE_OF: dict[type, str] = {bool: "Boolean", int: "Int64", float: "Float64", str: "Utf8"}
_RANK = {"Boolean": 0, "Int64": 1, "Float64": 2, "Utf8": 3}


def _wider(current: str, seen: str) -> str:
    if current == seen:
        return current
    if "Boolean" in (current, seen) or "Utf8" in (current, seen):
        return "Utf8"
    return current if _RANK[current] >= _RANK[seen] else seen


class ColumnsLimit(Exception):
    """A batch with more fields than `ZO_COLS_PER_RECORD_LIMIT`."""

    def __init__(self, columns: int) -> None:
        super().__init__(f"{columns} columns")
        self.columns = columns


def _i64_or_float(value: Any) -> Any:
    if type(value) is int and not (-(2**63) <= value < 2**63):
        return float(value)
    return value


@dataclass
class StreamMeta:
    name: str
    table: str
    created_at: int
    types: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchOutcome:
    hits: list[dict[str, Any]]
    total: int
    took_ms: int


class OrgDb:
    """The database of one organisation: connections, stream catalogue and schema cache."""

    def __init__(self, path: Path, index_fields: Sequence[str]) -> None:
        self.path = path
        self._index_fields = set(index_fields)
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        # No fsync: a committed request survives the emulator's own crash or restart (the OS
        # has the pages), which is what the local stack needs; power loss is out of scope.
        self.conn.execute("PRAGMA synchronous=OFF")
        # Big batches: checkpoint the WAL every ~64 MB rather than every 4 MB.
        self.conn.execute("PRAGMA wal_autocheckpoint=16384")
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS _o2_streams (
                name TEXT PRIMARY KEY, tbl TEXT NOT NULL, created_at INTEGER NOT NULL,
                doc_num INTEGER NOT NULL DEFAULT 0, doc_time_min INTEGER, doc_time_max INTEGER,
                storage_bytes INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE IF NOT EXISTS _o2_columns (
                stream TEXT NOT NULL, name TEXT NOT NULL, type TEXT NOT NULL,
                PRIMARY KEY (stream, name));
            CREATE TABLE IF NOT EXISTS _o2_writes (
                stream TEXT NOT NULL, first_row INTEGER NOT NULL, last_row INTEGER NOT NULL,
                at_us INTEGER NOT NULL, PRIMARY KEY (stream, first_row));
            """
        )
        self.reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.reader.execute("PRAGMA query_only=ON")
        o2sql.register_functions(self.reader)
        self.streams: dict[str, StreamMeta] = {}
        self.visibility = Visibility()
        for name, tbl, created in self.conn.execute(
            "SELECT name, tbl, created_at FROM _o2_streams"
        ):
            self.streams[name] = StreamMeta(name, tbl, created)
        for stream, col, typ in self.conn.execute("SELECT stream, name, type FROM _o2_columns"):
            if stream in self.streams:
                self.streams[stream].types[col] = typ

    def close(self) -> None:
        self.reader.close()
        self.conn.close()

    def _stream(self, name: str) -> StreamMeta:
        meta = self.streams.get(name)
        if meta is not None:
            return meta
        meta = StreamMeta(name, "t_" + name, now_micros(), {TIMESTAMP_COL: "Int64"})
        tbl = o2sql.quote_ident(meta.table)
        self.conn.execute(f"CREATE TABLE IF NOT EXISTS {tbl} (_timestamp INTEGER NOT NULL)")
        self.conn.execute(
            f"CREATE INDEX IF NOT EXISTS {o2sql.quote_ident('ix_' + meta.table + '__ts')} "
            f"ON {tbl} (_timestamp)"
        )
        self.conn.execute(
            "INSERT INTO _o2_streams (name, tbl, created_at) VALUES (?, ?, ?)",
            (name, meta.table, meta.created_at),
        )
        self.conn.execute(
            "INSERT INTO _o2_columns (stream, name, type) VALUES (?, ?, 'Int64')",
            (name, TIMESTAMP_COL),
        )
        self.streams[name] = meta
        return meta

    def _evolve(self, meta: StreamMeta, sample: dict[str, Any]) -> None:
        """Add the columns first seen in `sample`, widen the types it widens."""
        tbl = o2sql.quote_ident(meta.table)
        for col, value in sample.items():
            seen = _TYPE_OF.get(type(value), "Utf8")
            current = meta.types.get(col)
            if current is None:
                self.conn.execute(f"ALTER TABLE {tbl} ADD COLUMN {o2sql.quote_ident(col)}")
                if col in self._index_fields:
                    index = o2sql.quote_ident(f"ix_{meta.table}__{col}")
                    self.conn.execute(f"CREATE INDEX {index} ON {tbl} ({o2sql.quote_ident(col)})")
                self.conn.execute(
                    "INSERT INTO _o2_columns (stream, name, type) VALUES (?, ?, ?)",
                    (meta.name, col, seen),
                )
                meta.types[col] = seen
            elif (wider := _wider(current, seen)) != current:
                self.conn.execute(
                    "UPDATE _o2_columns SET type = ? WHERE stream = ? AND name = ?",
                    (wider, meta.name, col),
                )
                meta.types[col] = wider

    def insert(
        self, stream: str, rows: Sequence[Row], size_bytes: int, cols_limit: int = 0
    ) -> None:
        """Store `rows` (prepared records, see `ingest.Preparer.row`) in one transaction; raise
        `ColumnsLimit` (writing nothing) when the batch has more than `cols_limit` fields."""
        if not rows:
            return
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        low = high = rows[0][2]
        for keys, values, ts in rows:
            group = groups.get(keys)
            if group is None:
                groups[keys] = group = []
            group.append(values)
            if ts < low:
                low = ts
            elif ts > high:
                high = ts
        if cols_limit:
            columns = set().union(*groups)
            if len(columns) > cols_limit:
                raise ColumnsLimit(len(columns))
        try:
            self._write(stream, groups, len(rows), (low, high), size_bytes)
        except OverflowError:
            # An integer beyond i64: serde_json would have read it as f64.
            for keys, group in groups.items():
                groups[keys] = [tuple(map(_i64_or_float, v)) for v in group]
            self._write(stream, groups, len(rows), (low, high), size_bytes)

    def _write(
        self,
        stream: str,
        groups: dict[tuple[str, ...], list[tuple[Any, ...]]],
        count: int,
        stamps: tuple[int, int],
        size_bytes: int,
    ) -> None:
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            meta = self._stream(stream)
            tbl = o2sql.quote_ident(meta.table)
            first = int(conn.execute(f"SELECT coalesce(max(rowid), 0) FROM {tbl}").fetchone()[0])
            for keys, values in groups.items():
                self._evolve(meta, dict(zip(keys, values[0], strict=True)))
                cols = ", ".join(o2sql.quote_ident(k) for k in keys)
                marks = ", ".join("?" * len(keys))
                conn.executemany(f"INSERT INTO {tbl} ({cols}) VALUES ({marks})", values)
            low, high = stamps
            conn.execute(
                "UPDATE _o2_streams SET doc_num = doc_num + ?, "
                "doc_time_min = min(coalesce(doc_time_min, ?), ?), "
                "doc_time_max = max(coalesce(doc_time_max, ?), ?), "
                "storage_bytes = storage_bytes + ? WHERE name = ?",
                (count, low, low, high, high, size_bytes, stream),
            )
            last = int(conn.execute(f"SELECT max(rowid) FROM {tbl}").fetchone()[0])
            conn.execute(
                "INSERT OR REPLACE INTO _o2_writes (stream, first_row, last_row, at_us) "
                "VALUES (?, ?, ?, ?)",
                (stream, first + 1, last, now_micros()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            self._reload_types(stream)
            raise
        self.visibility.record(stream, first + 1, last)

    def _reload_types(self, stream: str) -> None:
        meta = self.streams.get(stream)
        if meta is None:
            return
        exists = self.conn.execute("SELECT 1 FROM _o2_streams WHERE name = ?", (stream,)).fetchone()
        if not exists:
            del self.streams[stream]
            return
        rows = self.conn.execute("SELECT name, type FROM _o2_columns WHERE stream = ?", (stream,))
        meta.types = dict(rows.fetchall())

    def delete_stream(self, stream: str) -> bool:
        meta = self.streams.pop(stream, None)
        self.visibility.forget(stream)
        if meta is None:
            return False
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute(f"DROP TABLE IF EXISTS {o2sql.quote_ident(meta.table)}")
        self.conn.execute("DELETE FROM _o2_streams WHERE name = ?", (stream,))
        self.conn.execute("DELETE FROM _o2_columns WHERE stream = ?", (stream,))
        self.conn.execute("DELETE FROM _o2_writes WHERE stream = ?", (stream,))
        self.conn.execute("COMMIT")
        return True

    def stream_stats(self) -> list[dict[str, Any]]:
        cur = self.conn.execute(
            "SELECT name, created_at, doc_num, doc_time_min, doc_time_max, storage_bytes "
            "FROM _o2_streams ORDER BY name"
        )
        return [
            {
                "name": name,
                "created_at": created,
                "doc_num": num,
                "doc_time_min": tmin or 0,
                "doc_time_max": tmax or 0,
                "storage_size": round(size / 1_048_576, 6),
            }
            for name, created, num, tmin, tmax, size in cur.fetchall()
        ]

    def search(
        self,
        query: str,
        start_us: int,
        end_us: int,
        offset: int,
        size: int,
        track_total: bool,
        fulltext_fields: Sequence[str],
        timeout_sec: float,
        lag_sec: float = 0.0,
        partial: tuple[int, float] | None = None,
    ) -> SearchOutcome:
        """Run `query`; rows written less than `lag_sec` ago are left out, and so is a share of
        the rows when `partial` = (salt, share) (a querier that failed)."""
        started = time.monotonic()
        tables = {name: meta.table for name, meta in self.streams.items()}
        columns = {name: list(meta.types) for name, meta in self.streams.items()}
        hidden = {name: self.visibility.hidden(name, lag_sec, partial) for name in tables}
        planned = o2sql.plan(query, tables, columns, start_us, end_us, fulltext_fields, hidden)
        paged = f"SELECT * FROM ({planned.sql})"
        if size >= 0:
            paged += f" LIMIT {int(size)} OFFSET {max(int(offset), 0)}"
        elif offset > 0:
            paged += f" LIMIT -1 OFFSET {int(offset)}"
        deadline = started + timeout_sec
        self.reader.set_progress_handler(lambda: int(time.monotonic() > deadline), 20_000)
        try:
            cur = self.reader.execute(paged)
            names = [d[0] for d in cur.description or ()]
            booleans = {
                n for n in names if self.streams[planned.streams[0]].types.get(n) == "Boolean"
            }
            hits = [_hit(names, row, booleans) for row in cur.fetchall()]
            total = len(hits)
            if track_total:
                counted = self.reader.execute(f"SELECT count(*) FROM ({planned.sql})").fetchone()
                total = int(counted[0])
        except sqlite3.Error as exc:
            raise o2sql.classify(exc) from exc
        finally:
            self.reader.set_progress_handler(None, 0)
        return SearchOutcome(hits, total, int((time.monotonic() - started) * 1000))


def _hit(names: list[str], row: tuple[Any, ...], booleans: set[str]) -> dict[str, Any]:
    hit: dict[str, Any] = {}
    for name, value in zip(names, row, strict=True):
        if value is None:
            continue  # Arrow's JSON writer leaves nulls out
        hit[name] = bool(value) if name in booleans else value
    return hit


class Store:
    """Every organisation's database under `data_dir`."""

    def __init__(self, data_dir: Path, index_fields: Sequence[str] = ("batch_id",)):
        self.root = data_dir / "orgs"
        self.root.mkdir(parents=True, exist_ok=True)
        self._index_fields = tuple(index_fields)
        self._dbs: dict[Path, OrgDb] = {}

    def _file(self, org: str) -> Path:
        plain = org.isascii() and org.replace("_", "").replace("-", "").isalnum()
        return self.root / f"{org if plain else 'x' + org.encode().hex()}.sqlite"

    def _open(self, path: Path) -> OrgDb:
        db = self._dbs.get(path)
        if db is None:
            db = self._dbs[path] = OrgDb(path, self._index_fields)
        return db

    def org(self, org: str, create: bool = True) -> OrgDb | None:
        """The organisation's database; None when it has none and `create` is False."""
        path = self._file(org)
        if not create and path not in self._dbs and not path.exists():
            return None
        return self._open(path)

    def insert(
        self,
        org: str,
        stream: str,
        rows: Sequence[Row],
        size_bytes: int,
        cols_limit: int = 0,
    ) -> None:
        self._open(self._file(org)).insert(stream, rows, size_bytes, cols_limit)

    def truth(self, org: str, stream: str, event_ids: bool) -> dict[str, Any]:
        """What is stored, faults aside: the stream's record count and (with `event_ids`) every
        stored `event_id` with its number of copies."""
        db = self.org(org, create=False)
        meta = db.streams.get(stream) if db is not None else None
        if db is None or meta is None:
            return {"stored": 0, "event_ids": {}} if event_ids else {"stored": 0}
        tbl = o2sql.quote_ident(meta.table)
        stored = int(db.conn.execute(f"SELECT count(*) FROM {tbl}").fetchone()[0])
        out: dict[str, Any] = {"stored": stored}
        if event_ids:
            copies: dict[str, int] = {}
            if "event_id" in meta.types:
                # Made the first time the truth is asked for (tests ask often, over streams that
                # grow through the suite): the GROUP BY then walks the index instead of sorting
                # the table each time. Ingest pays for it only from then on.
                index = o2sql.quote_ident(f"{meta.table}__event_id")
                db.conn.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {tbl}(event_id)")
                rows = db.conn.execute(
                    f"SELECT event_id, count(*) FROM {tbl} GROUP BY event_id"
                ).fetchall()
                copies = {str(e): int(n) for e, n in rows if e is not None}
            out["event_ids"] = copies
        return out

    def arrivals(self, org: str, stream: str, field: str, limit: int) -> dict[str, Any]:
        """When records arrived: `[value of field, ingest time in µs]` for at most `limit`
        records of the stream, evenly spread over its rows (every k-th), and the row count.

        The ingest time is the end of the request's write (the wall clock), kept per request
        beside the data; the demo measures freshness with it, outside the services."""
        db = self.org(org, create=False)
        meta = db.streams.get(stream) if db is not None else None
        if db is None or meta is None or field not in meta.types:
            return {"total": 0, "step": 1, "rows": []}
        tbl = o2sql.quote_ident(meta.table)
        total = int(db.conn.execute(f"SELECT count(*) FROM {tbl}").fetchone()[0])
        step = max(1, -(-total // max(limit, 1)))
        rows = db.conn.execute(
            f"SELECT t.{o2sql.quote_ident(field)}, (SELECT w.at_us FROM _o2_writes w "
            "WHERE w.stream = ? AND w.first_row <= t.rowid ORDER BY w.first_row DESC LIMIT 1) "
            f"FROM {tbl} t WHERE t.rowid % ? = 0",
            (stream, step),
        ).fetchall()
        return {"total": total, "step": step, "rows": [[v, at] for v, at in rows]}

    def total_records(self) -> int:
        total = 0
        for path in sorted(self.root.glob("*.sqlite")):
            row = self._open(path).conn.execute("SELECT coalesce(sum(doc_num), 0) FROM _o2_streams")
            total += int(row.fetchone()[0])
        return total

    def reset(self) -> None:
        """Delete every organisation's data."""
        self.close()
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True, exist_ok=True)

    def close(self) -> None:
        for db in self._dbs.values():
            db.close()
        self._dbs.clear()
