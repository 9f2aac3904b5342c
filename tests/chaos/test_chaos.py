"""Chaos: the whole system, broken in every way we know, keeps every promise.

Discovery and two processors run as real processes on a private stack (tansu on durable
storage, the S3 fault proxy) against a small emulated fleet on a clock sixty times fast. The
faults of `faults.py` are thrown each alone, then a few together, in an order drawn from the
seed (printed; `CHAOS_SEED=N` replays it). Then the faults are healed, the clock frozen just
past the hour (every file written during the run is rotated), the services left to settle, and
`aurora-processor verify` run. The judge, the emulators' ground truth:

* every byte of every rotated file is in S3 exactly once (objects tiling the file, equal to
  `/_admin/ground-truth`); for a deleted instance, what never reached S3 is reported with its
  range (the processor's `jobs`, or discovery's gap ledger);
* every event of those files is in OpenObserve exactly once (`/_admin/truth`); for a deleted
  instance's file, events lost with no S3 copy to repair them from count only when verify named
  them (exit 3, `lost`: the same file, the same number of events);
* no rotated file is left behind its end and no intent is left pending (tracking rows).

`CHAOS_SOAK=1` runs the long version: a bigger fleet, three processors, longer faults, and
rounds of random combinations.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from tests.chaos.conftest import SEED, SOAK
from tests.chaos.faults import FAULTS
from tests.chaos.world import ChaosWorld, lost_reported, poll

TOGETHER = (
    ("processor_sigkill", "openobserve", "rds_throttling"),
    ("kafka_restart", "valkey_down", "rds_throttling"),
    ("rotation", "processor_sigkill", "s3", "openobserve"),
)


def plan(rng: random.Random) -> list[tuple[str, ...]]:
    """Each fault alone, in a seeded order, then a few together (more and random in the soak)."""
    alone = [(name,) for name in FAULTS]
    rng.shuffle(alone)
    together = list(TOGETHER)
    if SOAK:
        pool = [n for n in FAULTS if n != "instance_deleted"]
        together += [tuple(rng.sample(pool, rng.randint(2, 4))) for _ in range(12)]
    return alone + together


async def run_phase(world: ChaosWorld, rng: random.Random, names: tuple[str, ...]) -> str:
    done = []
    faults = [FAULTS[n] for n in names]
    before = {f.name: f.strikes(world) for f in faults if f.strikes}
    try:
        for fault in faults:
            done.append(fault.start(world, rng))
        # A while (the soak: longer), and until each fault has met some work: S3 is written
        # only when files rotate, OpenObserve only while events flow.
        await asyncio.sleep(rng.uniform(4, 12) if SOAK else rng.uniform(1.0, 2.0))

        def waiting() -> list[str]:
            return [f.name for f in faults if f.strikes and f.strikes(world) <= before[f.name]]

        idle = await poll(waiting, timeout=30 if SOAK else 6, interval=0.5)
    finally:
        for fault in faults:
            fault.end(world)
    crashed = world.revive()
    world.crashes += [f"{c} after {'+'.join(names)}" for c in crashed]
    notes = (f" [never struck: {idle}]" if idle else "") + (
        f" [crashed: {crashed}]" if crashed else ""
    )
    return f"{'+'.join(names)}: {'; '.join(done)}{notes}"


@pytest.mark.timeout(3600 if SOAK else 300)
async def test_chaos_every_byte_and_event_exactly_once(chaos: ChaosWorld) -> None:
    rng = random.Random(SEED)
    await poll(
        lambda: not chaos.services.metrics().total("aurora_processor_events_shipped_total"), 60
    )
    started = time.monotonic()
    history = []
    for names in plan(rng):
        history.append(await run_phase(chaos, rng, names))
        print(f"[{time.monotonic() - started:5.1f}s] {history[-1]}")
    # The last hour rotates with S3 failing: the archive's busiest moment meets its faults.
    s3 = FAULTS["s3"]
    print(
        f"[{time.monotonic() - started:5.1f}s] clock frozen past the hour; {s3.start(chaos, rng)}"
    )
    chaos.freeze_past_the_hour()
    try:
        behind = await poll(chaos.settled, timeout=240 if SOAK else 90)
    finally:
        s3.end(chaos)
    print(f"[{time.monotonic() - started:5.1f}s] faults healed; struck: {chaos.struck()}")
    assert chaos.services is not None
    chaos.crashes += [f"{c} while settling" for c in chaos.revive()]
    print(f"crashes (restarted as a Deployment would): {chaos.crashes}")
    codes = chaos.services.stop_all(timeout=15)
    context = f"seed {SEED}; faults: {history}; logs {chaos.root}/logs"
    assert not behind, f"left behind: {behind[:10]} ({context})"
    assert all(code == 0 for code in codes.values()), f"exit codes {codes} ({context})"
    print(f"[{time.monotonic() - started:5.1f}s] settled")
    report = chaos.verify()
    print(f"[{time.monotonic() - started:5.1f}s] verify: {report}")
    assert report["exit_code"] == 0 or (report["exit_code"] == 3 and report["lost"]), (
        f"verify: {report} ({context})"
    )
    verdict = await chaos.judge(lost_reported(report))
    print(
        f"[{time.monotonic() - started:5.1f}s] judged {verdict.files_judged} files, {verdict.bytes_judged} bytes, "
        f"{verdict.events_judged} events; vanished and reported: {verdict.vanished_reported}; "
        f"created and deleted between listings: {verdict.unseen}"
    )
    assert verdict.problems == [], f"{verdict.problems[:10]} ({context})"
    assert verdict.files_judged > 0 and verdict.events_judged > 0
