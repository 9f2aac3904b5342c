"""Our PostgreSQL events against pgbadger's own report on the same generated RDS log: per query
class (pgbadger's "normalized queries") the same count and total duration, and, on a log written
in a named zone, the same hours (pgbadger reports the zone's wall clock; we convert to UTC)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from processor.parsers import Event
from tests.parsers.generate import random_statement
from tests.parsers.helpers import parse_all
from tests.parsers.pg_helpers import implementation

PREFIX = "%t:%r:%u@%d:[%p]:"
T0 = datetime(2024, 3, 9, 22, 50, 0)


def _log(seed: int, entries: int, zone: str) -> bytes:
    """An RDS PostgreSQL log: statements with and without `;`, prepared statements with and
    without bound parameters, multi-line statements, errors and background lines."""
    rng = random.Random(seed)
    when = T0
    out: list[str] = []
    for _ in range(entries):
        when += timedelta(milliseconds=rng.randrange(1, 4000))
        pre = (
            f"{when:%Y-%m-%d %H:%M:%S} {zone}:10.0.2.{rng.randrange(255)}"
            f"({rng.randrange(1024, 65535)}):app@shop:[{rng.randrange(100, 99999)}]:"
        )
        stmt = random_statement(rng).replace("`", '"')
        stmt += rng.choice(["", "", "", ";", " ;", ";  "])
        ms = f"{rng.random() * 500:.3f}"
        r = rng.random()
        if r < 0.55:
            out.append(f"{pre}LOG:  duration: {ms} ms  statement: {stmt}\n")
        elif r < 0.65:
            out.append(
                f"{pre}LOG:  duration: {ms} ms  execute S_{rng.randrange(9)}:"
                f" SELECT *\n\tFROM orders\n\tWHERE id = $1 AND b IN ($2, $3)\n"
                f"{pre}DETAIL:  parameters: $1 = '{rng.randrange(999)}', $2 = NULL,"
                f" $3 = '{rng.choice(['x', 'a b', '-1'])}'\n"
            )
        elif r < 0.7:
            out.append(
                f"{pre}LOG:  duration: {ms} ms  execute <unnamed>: DELETE FROM t WHERE a = $1\n"
            )
        elif r < 0.8:
            out.append(f"{pre}LOG:  statement: {stmt}\n")
        elif r < 0.9:
            out.append(
                f'{pre}ERROR:  duplicate key value violates unique constraint "orders_pkey"\n'
                f"{pre}DETAIL:  Key (id)=({rng.randrange(999)}) already exists.\n"
                f"{pre}STATEMENT:  INSERT INTO orders (id) VALUES ({rng.randrange(999)})\n"
            )
        else:
            out.append(
                f"{when:%Y-%m-%d %H:%M:%S} {zone}::@:[560]:LOG:  checkpoint complete:"
                f" wrote {rng.randrange(999)} buffers (0.1%)\n"
            )
    return "".join(out).encode()


@pytest.fixture(scope="module")
def pgbadger() -> str:
    path = shutil.which("pgbadger")
    if path is None:
        pytest.skip("pgbadger is not installed (`make tools`): the report comparison is skipped")
    return path


def _report(pgbadger: str, log: bytes, tmp: Path) -> dict[str, dict[str, object]]:
    """pgbadger's normalized queries of the log: class -> its JSON entry."""
    (tmp / "postgresql.log").write_bytes(log)
    subprocess.run(
        [pgbadger, "-q", "-j", "1", "-f", "stderr", "--prefix", PREFIX, "-x", "json",
         "-o", str(tmp / "out.json"), str(tmp / "postgresql.log")],
        check=True,
        timeout=300,
    )  # fmt: skip
    report = json.loads((tmp / "out.json").read_bytes())
    classes: dict[str, dict[str, object]] = {}
    for per_db in report["normalyzed_info"].values():
        classes.update(per_db)
    return classes


def _counted(e: Event) -> bool:
    """What pgbadger counts as a query: LOG statements and executes it could class."""
    f = e.fields
    return (
        f.get("severity") == "LOG"
        and f.get("statement_kind") in ("statement", "execute")
        and "fingerprint" in f
    )


def _ours(events: list[Event]) -> dict[str, tuple[int, float]]:
    """Class -> (count, total ms)."""
    found: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for e in filter(_counted, events):
        total = found[e.fields["fingerprint"]]
        total[0] += 1
        total[1] += e.fields.get("duration_ms") or 0.0
    return {k: (int(n), round(ms, 3)) for k, (n, ms) in found.items()}


def _text(key: str) -> str:
    """pgbadger reads bytes and its JSON encodes each byte as a character: back to UTF-8."""
    try:
        return key.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return key


def _theirs(classes: dict[str, dict[str, object]]) -> dict[str, tuple[int, float]]:
    return {
        _text(k): (int(v["count"]), round(float(v.get("duration") or 0.0), 3))  # type: ignore[arg-type]
        for k, v in classes.items()
    }


@pytest.mark.parametrize("name", ["compiled", "python"])
def test_classes_counts_and_durations_equal_pgbadgers(
    pgbadger: str, tmp_path: Path, name: str
) -> None:
    log = _log(3, 3000, "UTC")
    with implementation(name):
        ours = _ours(parse_all("postgresql", log))
    theirs = _theirs(_report(pgbadger, log, tmp_path))
    assert len(ours) > 500  # the statements differ enough to make many classes
    assert ours == theirs


def test_named_zone_same_classes_and_hours(pgbadger: str, tmp_path: Path) -> None:
    log = _log(4, 1500, "EST")
    events = parse_all("postgresql", log)
    classes = _report(pgbadger, log, tmp_path)
    assert _ours(events) == _theirs(classes)
    # pgbadger's per-hour counts are the printed wall clock: ours converted back to EST.
    theirs_hours: dict[tuple[str, str, str], int] = defaultdict(int)
    for k, v in classes.items():
        for day, hours in v["chronos"].items():  # type: ignore[attr-defined]
            for hour, stats in hours.items():
                theirs_hours[(_text(k), day, hour)] += stats["count"]
    ours_hours: dict[tuple[str, str, str], int] = defaultdict(int)
    est = timedelta(hours=-5)
    for e in filter(_counted, events):
        assert e.event_time is not None and e.event_time.tzinfo is UTC
        assert e.fields["time_zone"] == "EST"
        wall = e.event_time + est
        ours_hours[(e.fields["fingerprint"], f"{wall:%Y%m%d}", f"{wall:%H}")] += 1
    assert ours_hours == theirs_hours
