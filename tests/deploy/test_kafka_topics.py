"""The topic Job of the Helm chart (`python -m common.kafka_topics`) on the real local broker."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from common.kafka_topics import ensure_topics, main, wanted_topics
from common.settings import KafkaSettings, Settings


async def _partitions(settings: KafkaSettings, topic: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap_servers)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        return len(described["partitions"])
    finally:
        await admin.close()


async def test_missing_topics_are_created_and_existing_ones_left_alone(settings: Settings) -> None:
    kafka = KafkaSettings(
        kafka_brokers=settings.kafka.kafka_brokers,
        kafka_topic_error="deploy-t-error",
        kafka_topic_dlq="deploy-t-dlq",
    )
    created = await ensure_topics(kafka, partitions=3, replication_factor=1)
    assert "deploy-t-error" in created and "deploy-t-dlq" in created
    assert set(created) <= set(wanted_topics(kafka))
    assert await _partitions(kafka, "deploy-t-error") == 3
    # A second run (the Job on every upgrade) creates nothing and does not touch partitions.
    assert await ensure_topics(kafka, partitions=6, replication_factor=1) == []
    assert await _partitions(kafka, "deploy-t-error") == 3


def test_the_job_command_stops_with_the_variable_named_on_bad_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_TLS")
    assert main(["--replication-factor", "1"]) == 2
    assert "KAFKA_SECURITY_PROTOCOL" in capsys.readouterr().err
