"""`clear_of_the_hour`, the guard of the tests that follow a live file of the session's emulator.

Regression: that emulator runs on the wall clock, and a fresh-clone run that reached
test_rds_faults.py at 22:00 failed seven tests on the hourly rotation (a live file rotated
mid-read, then missing for the realistic profile's 20 s). Here a private, frozen emulator
(clock speed 0) is set at each place around the hour, and the guard must leave its clock where a
live file has minutes of life before and after it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processor.conftest import HOUR, clear_of_the_hour, rds_admin
from tests.rds_emulator.conftest import RdsServer, running_emulator


@pytest.fixture(scope="module")
def frozen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RdsServer]:
    with running_emulator(tmp_path_factory.mktemp("frozen"), "--instances", "2") as server:
        yield server


def _into_the_hour() -> float:
    return float(rds_admin("GET", "clock")["now"]) % HOUR


@pytest.mark.parametrize(
    ("into", "after"),
    [
        (0.0, 300.0),  # at the rotation: on to five minutes past
        (10.0, 300.0),  # the live name may still be missing: on to five past
        (1800.0, 1800.0),  # mid-hour: left alone
        (3000.0, 3000.0),  # ten minutes before: left alone
        (3599.0, 300.0),  # a second before: past the rotation, to five past
    ],
)
def test_the_guard_keeps_the_clock_away_from_the_rotation(
    frozen: RdsServer, monkeypatch: pytest.MonkeyPatch, into: float, after: float
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", frozen.url)  # rds_admin's emulator
    frozen.admin("POST", "clock", {"advance_sec": (into - _into_the_hour()) % HOUR})
    assert _into_the_hour() == pytest.approx(into, abs=1e-3)
    clear_of_the_hour()
    assert _into_the_hour() == pytest.approx(after, abs=1e-3)
