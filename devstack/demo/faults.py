"""Faults the demo injects on a schedule, on top of the RDS emulator's realistic profile, so
that the run shows the pipeline recovering: each is switched on through an emulator's admin
API at a share of the duration, and off again after a while.

* an **OpenObserve 503 burst**: every ingest request refused (the processor retries with
  backoff; nothing is checkpointed until OpenObserve confirms);
* an **RDS throttling storm**: another tool in the account takes most of the request budget,
  so the emulator answers `Throttling` beyond 2 requests/s (the services back off, empty the
  shared bucket and carry on).
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Any


def _call(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


@dataclass
class Fault:
    """One fault: on at `at` seconds for `seconds`; `state` is pending, on or over."""

    name: str
    at: float
    seconds: float
    state: str = "pending"

    def switch_on(self) -> None:
        raise NotImplementedError

    def switch_off(self) -> None:
        raise NotImplementedError

    def tick(self, elapsed: float) -> None:
        if self.state == "pending" and elapsed >= self.at:
            self.switch_on()
            self.state = "on"
        elif self.state == "on" and elapsed >= self.at + self.seconds:
            self.switch_off()
            self.state = "over"

    def clear(self) -> None:
        """Off now if on (the run ends early)."""
        if self.state == "on":
            self.switch_off()
            self.state = "over"


@dataclass
class OpenObserve503(Fault):
    url: str = ""

    def switch_on(self) -> None:
        _call("POST", f"{self.url}/_admin/faults", {"status_rate": 1.0, "statuses": [503]})

    def switch_off(self) -> None:
        _call("POST", f"{self.url}/_admin/faults", {"status_rate": 0.0})


@dataclass
class ThrottleStorm(Fault):
    url: str = ""
    rate: float = 2.0
    saved: dict[str, Any] | None = None

    def switch_on(self) -> None:
        state = _call("GET", f"{self.url}/_admin/throttle")
        self.saved = {"rate": state["rate"], "burst": state["burst"]}
        _call("POST", f"{self.url}/_admin/throttle", {"rate": self.rate, "burst": 1})

    def switch_off(self) -> None:
        if self.saved is not None:
            _call("POST", f"{self.url}/_admin/throttle", self.saved)


def schedule(duration: float, o2_url: str, rds_url: str) -> list[Fault]:
    """The demo's faults, placed by the run's duration (after the first rotation's work)."""
    return [
        OpenObserve503(
            "OpenObserve answers 503 to every write",
            0.35 * duration,
            min(15.0, duration / 8),
            url=o2_url,
        ),
        ThrottleStorm(
            "RDS throttling storm (the account's budget taken elsewhere)",
            0.55 * duration,
            min(20.0, duration / 6),
            url=rds_url,
        ),
    ]
