"""The demo's live view: one table redrawn in place (`rich.live`), not scrolling log lines.

Every refresh reads the services' Prometheus samples (`Services.metrics()`) and the emulated
clock, and shows counters as rates since the previous refresh: instances, files and bytes
behind, MB/s downloaded (complete files and portions), events/s shipped, RDS calls/s against
the budget, throttles, the Kafka lag, and where the injected faults stand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Group
from rich.table import Table
from rich.text import Text

from common.log_types import LOG_TYPES
from devstack.demo.faults import Fault
from devstack.figures import rate
from devstack.services import Samples

MB = 1e6


@dataclass(frozen=True)
class Tick:
    """The services' samples at `elapsed` seconds into the run, with the emulated clock."""

    elapsed: float
    samples: Samples
    emulated: float
    alive: Mapping[str, bool] = field(default_factory=dict)  # service name -> running
    rds_calls: float = 0.0  # the RDS emulator's count of calls answered, throttled included
    rds_throttled: float = 0.0  # of which answered `Throttling`


def counters(tick: Tick) -> dict[str, float]:
    """The cumulative counters the view turns into rates."""
    samples = tick.samples
    downloaded = samples.by_label("aurora_processor_bytes_downloaded_total", "api")
    return {
        "complete": downloaded.get("complete", 0.0),
        "portion": downloaded.get("portion", 0.0),
        "events": samples.total("aurora_processor_events_shipped_total"),
        "rds_calls": tick.rds_calls,
        "throttles": tick.rds_throttled,
    }


@dataclass
class LiveView:
    """Builds the table from successive ticks; `budget` is RDS_API_RATE_LIMIT (requests/s)."""

    duration: float
    budget: float
    speed: float
    streams: Mapping[str, str] = field(default_factory=dict)  # log type -> OpenObserve stream
    faults: Sequence[Fault] = ()
    previous: Tick | None = None
    latest: dict[str, float] = field(default_factory=dict)

    def update(self, tick: Tick) -> Group:
        now = counters(tick)
        before = counters(self.previous) if self.previous else dict.fromkeys(now, 0.0)
        seconds = tick.elapsed - (self.previous.elapsed if self.previous else 0.0)
        self.latest = {k: rate(before[k], now[k], seconds) for k in now}
        self.previous = tick
        return Group(self._summary(tick, now), self._per_type(tick.samples, self.streams))

    def _summary(self, tick: Tick, totals: dict[str, float]) -> Table:
        s, r = tick.samples, self.latest
        clock = datetime.fromtimestamp(tick.emulated, UTC).strftime("%H:%M:%S")
        states = s.by_label("aurora_discovery_instances", "state")
        instances = ", ".join(f"{k} {int(v)}" for k, v in sorted(states.items()) if v) or "-"
        calls = r["rds_calls"]
        budget = Text(f"{calls:.1f}/s of {self.budget:g}/s")
        if calls >= 0.8 * self.budget:
            budget.stylize("bold yellow")
        table = Table(
            title=f"Aurora log pipeline — {tick.elapsed:.0f}s of {self.duration:.0f}s, "
            f"emulated clock {clock} UTC (×{self.speed:g})",
            show_header=False,
            title_justify="left",
        )
        table.add_column(style="bold")
        table.add_column()
        down = [name for name, up in tick.alive.items() if not up]
        running = Text(f"{len(tick.alive) - len(down)} running")
        if down:
            running.append(f"; exited: {', '.join(down)} (see its log)", "bold red")
        table.add_row("services", running)
        table.add_row("instances (discovery)", instances)
        table.add_row(
            "files / bytes behind",
            f"{int(s.total('aurora_discovery_files_behind'))} files, "
            f"{s.total('aurora_discovery_bytes_behind') / MB:.1f} MB",
        )
        table.add_row(
            "downloaded",
            f"{(r['complete'] + r['portion']) / MB:.2f} MB/s "
            f"(complete files {r['complete'] / MB:.2f}, portions {r['portion'] / MB:.2f}); "
            f"total {(totals['complete'] + totals['portion']) / MB:.1f} MB",
        )
        table.add_row("events shipped", f"{r['events']:,.0f}/s; total {totals['events']:,.0f}")
        table.add_row("RDS calls", budget)
        table.add_row(
            "throttles",
            f"{totals['throttles']:.0f} (backed off and retried), {r['throttles']:.1f}/s",
        )
        table.add_row("Kafka lag", f"{int(s.total('aurora_processor_consumer_lag'))} messages")
        for fault in self.faults:
            state = {
                "pending": f"at {fault.at:.0f}s",
                "on": "ON",
                "over": f"was on {fault.at:.0f}–{fault.at + fault.seconds:.0f}s, over",
            }
            shown = Text(f"{fault.name}: {state[fault.state]}")
            if fault.state == "on":
                shown.stylize("bold red")
            table.add_row("fault", shown)
        return table

    @staticmethod
    def _per_type(s: Samples, streams: Mapping[str, str]) -> Table:
        announced = s.by_label("aurora_discovery_files_announced_total", "log_type")
        downloaded = s.by_label("aurora_processor_bytes_downloaded_total", "log_type")
        behind = s.by_label("aurora_discovery_bytes_behind", "log_type")
        shipped = s.by_label("aurora_processor_events_shipped_total", "stream")
        table = Table(title="by log type", title_justify="left")
        for name in ("log type", "files announced", "MB downloaded", "MB behind", "events"):
            table.add_column(name, justify="left" if name == "log type" else "right")
        for t in LOG_TYPES:
            events = shipped.get(streams.get(t, ""), 0.0)
            table.add_row(
                t,
                f"{announced.get(t, 0):.0f}",
                f"{downloaded.get(t, 0) / MB:.1f}",
                f"{behind.get(t, 0) / MB:.1f}",
                f"{events:,.0f}",
            )
        return table
