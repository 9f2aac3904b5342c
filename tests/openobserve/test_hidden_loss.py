"""A 200 with matching counts that hid records never written (issue 9 item 12): the sender
cannot see it (every event reads delivered), the emulator's ground truth shows it, and the
client's `which_stored` gives the processor's `verify` what it needs to repair it: the absent
event ids, and only those, sent again, end with every event stored exactly once."""

from __future__ import annotations

from collections import Counter

from processor.sinks.openobserve import OpenObserveClient
from tests.openobserve.conftest import O2Server, client_settings, make_events, new_stream, span


async def test_a_hidden_loss_is_invisible_to_the_sender_and_repaired_by_which_stored(
    o2: O2Server,
) -> None:
    stream = new_stream()
    events = make_events(300, batch_id="hidden")
    ids = [str(e["event_id"]) for e in events]
    o2.faults(hidden_loss_rate=0.25, seed=13)
    async with OpenObserveClient(client_settings(o2.url)) as client:
        result = await client.ship(stream, events)
        assert result.ok and sorted(result.delivered) == sorted(ids)  # the sender was told 200
        truth = o2.truth(stream, event_ids=True)
        assert truth["acknowledged"] == 300
        assert truth["stored"] < truth["acknowledged"]  # ground truth differs from the ack
        o2.clear_faults()
        # verify: which events of this range does OpenObserve hold? (the write is long done)
        check = await client.which_stored(
            stream, ids, *span(events), last_write_us=None, batch_ids=["hidden"]
        )
        assert check.unknown == frozenset()
        assert check.absent == frozenset(ids) - set(truth["event_ids"])
        assert len(check.absent) == 300 - truth["stored"]
        again = await client.ship(stream, [e for e in events if e["event_id"] in check.absent])
        assert again.ok
    assert Counter(o2.truth(stream, event_ids=True)["event_ids"]) == Counter(ids)
