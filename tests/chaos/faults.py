"""The faults the chaos suite throws at the running system, each with its cure.

Each `Fault` breaks one thing when it starts and mends it when it ends (`instance_deleted` and
`rotation` have nothing to mend: the world has changed). They only use what an operator would
see break: signals to the real processes, a broker or Valkey stopped and started on the same
port, the emulators' and the S3 proxy's `/_admin/` switches.
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.chaos.world import ChaosWorld


@dataclass(frozen=True)
class Fault:
    name: str
    start: Callable[[ChaosWorld, random.Random], str]  # returns what it did, for the log
    end: Callable[[ChaosWorld], None] = lambda _w: None
    # How many times it has struck so far (None: it strikes once, when it starts). A phase
    # lasts until each of its faults met some work, so that none passes unnoticed.
    strikes: Callable[[ChaosWorld], int] | None = None


def _o2_strikes(w: ChaosWorld) -> int:
    stats = w.admin("openobserve", "GET", "stats")
    return int(sum(stats.get("failures", {}).values()))


def _s3_strikes(w: ChaosWorld) -> int:
    return int(w.admin("s3faults", "GET", "stats")["injected"]["total"])


def _rds_strikes(w: ChaosWorld) -> int:
    return int(w.admin("rds", "GET", "stats").get("total_throttled", 0))


def _kill_processor(w: ChaosWorld, rng: random.Random) -> str:
    assert w.services is not None
    victim = rng.choice(sorted(p.name for p in w.services.processors() if p.alive))
    w.services.kill(victim, signal.SIGKILL)
    w.services.start("processor", victim)  # a Deployment restarts it
    return f"SIGKILL {victim}, restarted"


def _kafka_down(w: ChaosWorld, _rng: random.Random) -> str:
    w.stack.stop_server("kafka")
    return "Kafka broker stopped"


def _kafka_up(w: ChaosWorld) -> None:
    w.stack.start_server("kafka")


def _valkey_down(w: ChaosWorld, _rng: random.Random) -> str:
    w.stack.stop_server("valkey", timeout=0)
    return "Valkey killed"


def _valkey_up(w: ChaosWorld) -> None:
    w.stack.start_server("valkey")


def _o2(w: ChaosWorld, rng: random.Random) -> str:
    faults = {
        "status_rate": 0.25,
        "statuses": [503, 429, 500],
        "search_partial_rate": 0.4,
        "after_write_rate": 0.15,
        "after_write": ["502", "504"],
        "hidden_loss_rate": 0.03,
        "seed": rng.randrange(1 << 30),
    }
    w.admin("openobserve", "POST", "faults", faults)
    return f"OpenObserve 5xx/429, partial search, write-then-error, 200-with-loss {faults}"


def _o2_clear(w: ChaosWorld) -> None:
    w.admin("openobserve", "DELETE", "faults")


def _s3(w: ChaosWorld, rng: random.Random) -> str:
    faults = {
        "status_rate": 0.25,
        "reset_rate": 0.05,
        "after_write_rate": 0.2,
        "after_write": ["500", "503", "reset"],
        "seed": rng.randrange(1 << 30),
    }
    w.admin("s3faults", "POST", "faults", faults)
    return f"S3 500/503/reset before and after the write {faults}"


def _s3_clear(w: ChaosWorld) -> None:
    w.admin("s3faults", "DELETE", "faults")


_THROTTLE: dict[str, Any] = {}


def _throttle_storm(w: ChaosWorld, _rng: random.Random) -> str:
    state = w.admin("rds", "GET", "throttle")
    _THROTTLE.update(rate=state["rate"], burst=state["burst"])
    w.admin("rds", "POST", "throttle", {"rate": 0.5, "burst": 2})
    return "RDS throttling storm: 0.5 requests/s, burst 2"


def _throttle_end(w: ChaosWorld) -> None:
    w.admin("rds", "POST", "throttle", _THROTTLE or {"rate": 12, "burst": 300})


def _rotation(w: ChaosWorld, _rng: random.Random) -> str:
    """The hour turns now, while active files are being read."""
    now = float(w.admin("rds", "GET", "clock")["now"])
    advance = 3600 - now % 3600 + 1
    w.admin("rds", "POST", "clock", {"advance_sec": advance})
    return f"clock advanced {advance:.0f} s: hourly files rotate mid-download"


def _delete_instance(w: ChaosWorld, rng: random.Random) -> str:
    readers = [i for i in w.fleet() if not i["writer"] and i["status"] == "available"]
    if not readers:
        return "no reader to delete"
    victim = rng.choice(sorted(readers, key=lambda i: str(i["instance_id"])))
    w.admin("rds", "POST", f"fleet/instances/{victim['instance_id']}/scale-in")
    return f"reader {victim['instance_id']} deleted mid-file"


FAULTS: dict[str, Fault] = {
    f.name: f
    for f in (
        Fault("processor_sigkill", _kill_processor),
        Fault("kafka_restart", _kafka_down, _kafka_up),
        Fault("valkey_down", _valkey_down, _valkey_up),
        Fault("openobserve", _o2, _o2_clear, _o2_strikes),
        Fault("s3", _s3, _s3_clear, _s3_strikes),
        Fault("rds_throttling", _throttle_storm, _throttle_end, _rds_strikes),
        Fault("rotation", _rotation),
        Fault("instance_deleted", _delete_instance),
    )
}
