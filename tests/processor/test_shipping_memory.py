"""A range's documents are made as the OpenObserve client sends them, never all at once.

bench/processor.py found the processor at 400+ MB for three small files in progress: each held
its whole range's documents (about 6x the range's raw bytes: 150 MB for 8 MiB of general log)
while the client sent them batch by batch. The bound is now the range's events plus the batches
in flight, whatever the range size; measured here with tracemalloc, not timed.
"""

from __future__ import annotations

import io
import tracemalloc
import uuid
from typing import Any

from processor.checkpoint import CheckpointStore, FileKey
from processor.documents import FileContext, to_document
from processor.jobs import JobsLog
from processor.ranges import Range, RangeCutter
from processor.shipping import RangeShipper
from processor.sinks.openobserve import OpenObserveClient
from tests.parsers.generate import write_generallog
from tests.processor.conftest import World


def _range(size: int) -> Range:
    out = io.BytesIO()
    write_generallog(out, size)
    cutter = RangeCutter("general", 0, {}, 1 << 30)
    cutter.feed(out.getvalue())
    (rng,) = cutter.finish()
    return rng


def _context(generation: str) -> FileContext:
    return FileContext(
        account="123456789012", region="us-east-1", cluster_id="c", instance_id="i",
        engine="aurora-mysql", log_type="general", log_file_name="general/mysql-general.log",
        resource_id="db-MEMORYTEST", generation=generation,
    )  # fmt: skip


async def test_a_range_is_shipped_without_holding_all_its_documents(world: World) -> None:
    small_batches = world.settings.openobserve.model_copy(
        update={"openobserve_batch_bytes": 64 * 1024, "openobserve_visibility_lag_sec": 1}
    )
    stream = world.settings.openobserve.streams()["general"]
    store = CheckpointStore(world.ddb, world.tracking, "p1", 60)

    async def dead_letter(record: dict[str, Any]) -> None:
        world.letters.append(record)

    async with OpenObserveClient(small_batches) as o2:
        shipped = []
        # The first range warms the clients (pools, botocore's models) and is not measured.
        for size, measured in ((20_000, False), (1_000_000, True)):
            generation = f"memory#{uuid.uuid4().hex[:8]}"
            context = _context(generation)
            rng = _range(size)
            shipper = RangeShipper(
                store, JobsLog(world.ddb, world.jobs), o2, stream, context, dead_letter, 1
            )
            cp = await store.acquire(FileKey(context.resource_id, generation))
            if not measured:
                shipped.append(await shipper.ship(cp, rng))
                continue
            tracemalloc.start()
            try:
                docs = [to_document(e, context, uuid.uuid4().hex) for e in rng.events]
                all_documents = tracemalloc.get_traced_memory()[0]
                del docs
                base = tracemalloc.get_traced_memory()[0]
                tracemalloc.reset_peak()
                shipped.append(await shipper.ship(cp, rng))
                peak = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
    assert shipped[-1].delivered == len(rng.events) > 5000
    assert world.letters == []
    # Before: the documents list alone was `all_documents`, plus the batches being encoded.
    assert peak < all_documents / 2, (peak, all_documents)
