"""Kafka producer and consumer factories (aiokafka) with the project's safety defaults.

Producer: `acks="all"`, retries with backoff, and *no* idempotence: the local broker (tansu) cannot
serve InitProducerId, and the design never relies on Kafka exactly-once: a message is only a hint,
the DynamoDB checkpoint is the truth. Consumer: manual commit, earliest offset for a new group.
"""

from __future__ import annotations

import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context

from common.settings import KafkaSettings


def _security(settings: KafkaSettings) -> dict[str, Any]:
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context: ssl.SSLContext = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password.get_secret_value(),
        )
    return options


def make_producer(settings: KafkaSettings, **overrides: Any) -> AIOKafkaProducer:
    """A producer with acks=all and no idempotence; `await producer.start()` before use."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "acks": "all",
        "enable_idempotence": False,
        "max_request_size": settings.kafka_max_request_size,
        "compression_type": "zstd",
        "linger_ms": 5,
        "request_timeout_ms": 30000,
        "retry_backoff_ms": 200,
        **_security(settings),
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_consumer(settings: KafkaSettings, *topics: str, **overrides: Any) -> AIOKafkaConsumer:
    """A group consumer with manual commit; `await consumer.start()` before use."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "group_id": settings.kafka_consumer_group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": settings.kafka_heartbeat_interval_ms,
        "max_partition_fetch_bytes": settings.kafka_max_request_size,
        "fetch_max_bytes": max(settings.kafka_max_request_size * 4, 52428800),
        **_security(settings),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)
