"""A service started before its brokers waits for them (`start_when_reachable`) instead of
exiting at once: regression of the chaos suite's processor that died when it started during a
broker restart (`KafkaConnectionError: Unable to bootstrap`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError

from common.kafka import make_producer, start_when_reachable
from common.settings import KafkaSettings
from devstack import procs
from devstack.stack import HOST, _tansu


async def test_unreachable_brokers_are_retried_then_the_error_is_raised() -> None:
    port = procs.free_port(HOST)
    made: list[AIOKafkaProducer] = []

    def make() -> AIOKafkaProducer:
        made.append(make_producer(KafkaSettings(kafka_brokers=f"{HOST}:{port}")))
        return made[-1]

    with pytest.raises(KafkaConnectionError):
        await start_when_reachable(make, "producer", timeout_sec=1.0)
    assert len(made) >= 2  # retried, a fresh client each time


async def test_a_broker_that_comes_up_later_is_waited_for(tmp_path: Path) -> None:
    port = procs.free_port(HOST)
    broker = None
    made: list[int] = []

    def make() -> AIOKafkaProducer:
        nonlocal broker
        if broker is None and made:  # the first attempt has failed: now the broker starts
            broker = procs.spawn(_tansu(port, tmp_path), tmp_path / "tansu.log")
        made.append(1)
        return make_producer(KafkaSettings(kafka_brokers=f"{HOST}:{port}"))

    try:
        producer = await start_when_reachable(make, "producer", timeout_sec=60.0)
        await producer.stop()
    finally:
        if broker is not None:
            procs.stop_group(broker.pid)
    assert broker is not None and len(made) >= 2
