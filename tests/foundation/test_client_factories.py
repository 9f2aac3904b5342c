"""The factories' options: retry mode, endpoints, Kafka security, Valkey TLS."""

from __future__ import annotations

import ssl

import pytest
from redis.asyncio.connection import SSLConnection

from common.aws import AwsClients, endpoint_for
from common.kafka import make_consumer, make_producer
from common.settings import AwsSettings, KafkaSettings, ValkeySettings
from common.valkey import valkey_client


def test_aws_retry_mode_and_attempts_come_from_settings() -> None:
    config = AwsClients(AwsSettings(aws_retry_mode="standard", aws_max_attempts=7)).config()
    assert config.retries == {"mode": "standard", "total_max_attempts": 7}
    assert AwsClients(AwsSettings()).config().retries["mode"] == "adaptive"


def test_endpoint_override_per_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_RDS", "http://127.0.0.1:1")
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    assert endpoint_for("rds") == "http://127.0.0.1:1"
    assert endpoint_for("s3") is None
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:2")
    assert endpoint_for("s3") == "http://127.0.0.1:2"


async def test_kafka_producer_is_acks_all_without_idempotence() -> None:
    producer = make_producer(KafkaSettings(kafka_brokers="127.0.0.1:1"))
    assert producer._txn_manager is None  # no idempotence, no transactions
    assert producer._sender._acks == -1  # "all"
    assert producer.client._bootstrap_servers == ["127.0.0.1:1"]


async def test_kafka_sasl_ssl_options_reach_the_client() -> None:
    settings = KafkaSettings(
        kafka_brokers="b:9096",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="svc",
        kafka_sasl_password="pw",
    )
    consumer = make_consumer(settings, "t")
    client = consumer._client
    assert client._security_protocol == "SASL_SSL"
    assert client._sasl_mechanism == "SCRAM-SHA-512"
    assert client._sasl_plain_username == "svc"
    assert client._sasl_plain_password == "pw"
    assert isinstance(client._ssl_context, ssl.SSLContext)
    assert consumer._enable_auto_commit is False


async def test_valkey_tls_follows_the_url_scheme() -> None:
    tls = valkey_client(ValkeySettings(valkey_url="rediss://127.0.0.1:6380/0"))
    plain = valkey_client(ValkeySettings(valkey_url="redis://127.0.0.1:6379/0"))
    try:
        assert tls.connection_pool.connection_class is SSLConnection
        assert plain.connection_pool.connection_class is not SSLConnection
    finally:
        await tls.aclose()
        await plain.aclose()
