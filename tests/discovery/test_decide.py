"""The per-file decision (pure): announce beyond the checkpoint once per size, START_POSITION."""

from __future__ import annotations

import pytest

from common.log_files import generation_of
from common.log_types import LogType
from discovery.decide import Action, Pacing, decide, expiry_estimate
from discovery.listing import Sighting
from discovery.tracking import Row

NOW_MS = 1_764_000_000_000


def sighting(name: str, size: int, written: int = NOW_MS, rotated: bool = False) -> Sighting:
    return Sighting(
        name, size, written, LogType.SLOWQUERY, generation_of(name, written, size), rotated
    )


def row(published: int | None, shipped: int = 0, archived: int = 0, rotated: bool = False) -> Row:
    return Row(
        "g",
        1,
        "slowquery",
        "n",
        published or 0,
        0,
        published,
        rotated,
        1e12,
        shipped,
        archived,
        "new",
        rotated,
    )


def d(s: Sighting, r: Row | None, start: float | None = None, first: bool = False):  # type: ignore[no-untyped-def]
    return decide(
        s,
        r,
        start_after_sec=start,
        first_listing=first,
        newest_written_ms=NOW_MS,
        now=1e12,
        reannounce_sec=3600,
    )


def test_new_file_with_bytes_is_announced_from_zero_empty_one_is_not() -> None:
    assert d(sighting("slowquery/mysql-slowquery.log", 10), None).action is Action.ANNOUNCE
    assert d(sighting("slowquery/mysql-slowquery.log", 0), None).action is Action.NOTHING


def test_once_per_size_and_once_more_when_complete() -> None:
    s = sighting("slowquery/mysql-slowquery.log", 100)
    assert d(s, row(100)).action is Action.NOTHING
    assert d(sighting("slowquery/mysql-slowquery.log", 150), row(100)).action is Action.ANNOUNCE
    done = sighting("slowquery/mysql-slowquery.log.2026-11-24.15", 100, rotated=True)
    assert d(done, row(100, shipped=40, archived=0)).action is Action.ANNOUNCE
    assert d(done, row(100, shipped=100, archived=100)).action is Action.NOTHING


def test_stale_announcement_of_a_file_still_behind_is_repeated() -> None:
    s = sighting("slowquery/mysql-slowquery.log", 100)
    old = row(100)
    old.published_at = 1e12 - 7200
    assert d(s, old).action is Action.ANNOUNCE


def test_start_position() -> None:
    recent = sighting("slowquery/mysql-slowquery.log", 10, NOW_MS - 60_000)
    old = sighting("slowquery/mysql-slowquery.log.2026-11-24.01", 10, NOW_MS - 5 * 3_600_000, True)
    assert d(old, None, start=0, first=True).action is Action.SKIP  # latest
    assert d(recent, None, start=0, first=True).start_offset == 10
    assert d(old, None, start=3600, first=True).action is Action.SKIP  # 1h: older file skipped
    assert d(recent, None, start=3600, first=True).action is Action.ANNOUNCE
    assert d(old, None, start=0, first=False).action is Action.ANNOUNCE  # later instances: all


def test_expiry_order_puts_the_oldest_complete_file_first() -> None:
    a = sighting("slowquery/mysql-slowquery.log.2026-11-24.01", 1, NOW_MS - 20 * 3_600_000, True)
    b = sighting("slowquery/mysql-slowquery.log.2026-11-24.09", 1, NOW_MS - 12 * 3_600_000, True)
    c = sighting("slowquery/mysql-slowquery.log", 1)
    assert sorted([c, b, a], key=expiry_estimate) == [a, b, c]


PACED = Pacing(min_bytes=1000, max_delay_sec=180)
LIVE = "slowquery/mysql-slowquery.log"


@pytest.mark.parametrize(
    ("case", "s", "published", "age", "action"),
    [
        ("grown a little, announced lately: waits", sighting(LIVE, 1500), 1000, 60, "nothing"),
        ("grown by the minimum: announced", sighting(LIVE, 2000), 1000, 60, "announce"),
        ("announced long enough ago: announced", sighting(LIVE, 1001), 1000, 180, "announce"),
        ("never announced: announced at once", sighting(LIVE, 10), None, 0, "announce"),
        (
            "rotated: read whole at once, never paced",
            sighting(f"{LIVE}.2026-11-24.15", 1500, rotated=True), 1000, 1, "announce",
        ),
    ],
)  # fmt: skip
def test_an_active_file_is_announced_again_once_grown_or_once_it_has_waited(
    case: str, s: Sighting, published: int | None, age: float, action: str
) -> None:
    r = row(published, shipped=published or 0)
    r.published_at = 1e12 - age
    got = decide(
        s, r, start_after_sec=None, first_listing=False, newest_written_ms=NOW_MS, now=1e12,
        reannounce_sec=3600, pacing=PACED,
    )  # fmt: skip
    assert got.action.value == action, case


def test_without_pacing_every_growth_is_announced() -> None:
    r = row(1000, shipped=1000)
    assert d(sighting(LIVE, 1001), r).action is Action.ANNOUNCE
