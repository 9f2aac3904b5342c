"""Kafka producer and consumer factories (aiokafka) with the project's safety defaults.

Producer: `acks="all"`, retries with backoff, and *no* idempotence: the local broker (tansu) cannot
serve InitProducerId, and the design never relies on Kafka exactly-once: a message is only a hint,
the DynamoDB checkpoint is the truth. Consumer: manual commit, earliest offset for a new group.

Security is chosen by settings: PLAINTEXT, TLS, SASL SCRAM/PLAIN with a user and password, or
SASL OAUTHBEARER with MSK IAM authentication, where the token is a SigV4-presigned URL made by
AWS's own signer library (`aws-msk-iam-sasl-signer-python`) from the pod's credentials (IRSA or
EKS Pod Identity): no Kafka password to store or rotate.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.abc import AbstractTokenProvider
from aiokafka.errors import KafkaConnectionError
from aiokafka.helpers import create_ssl_context
from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
from botocore.credentials import CredentialProvider

from common.rate_limit import backoff_delay
from common.settings import KafkaSettings

log = structlog.get_logger(__name__)

# A token is valid for 15 minutes (the signer's expiry); a new one is made this long before.
_TOKEN_REFRESH_MARGIN_SEC = 60.0


class MskIamTokenProvider(AbstractTokenProvider):  # type: ignore[misc]
    """SASL OAUTHBEARER tokens for MSK IAM auth, reused until a minute before they expire.

    The signer is synchronous and may call STS (web-identity credentials), so it runs in a thread.
    `credentials` replaces the default AWS credential chain (tests; a role of one's own).
    """

    def __init__(self, region: str, credentials: CredentialProvider | None = None) -> None:
        self.region = region
        self._credentials = credentials
        self._token = ""
        self._expires_at = 0.0  # epoch seconds
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:  # connections opened together share one token
            if time.time() >= self._expires_at - _TOKEN_REFRESH_MARGIN_SEC:
                self._token, expiry_ms = await asyncio.to_thread(self._generate)
                self._expires_at = expiry_ms / 1000.0
            return self._token

    def _generate(self) -> tuple[str, int]:
        if self._credentials is not None:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token_from_credentials_provider(
                self.region, self._credentials
            )
        else:
            token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        return str(token), int(expiry_ms)


def security_options(settings: KafkaSettings) -> dict[str, Any]:
    """The client options of the configured security: TLS context, SASL mechanism and secrets."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_security_protocol in ("SSL", "SASL_SSL"):
        context: ssl.SSLContext = create_ssl_context(cafile=settings.kafka_ssl_cafile or None)
        options["ssl_context"] = context
    if not settings.kafka_security_protocol.startswith("SASL"):
        return options
    options["sasl_mechanism"] = settings.kafka_sasl_mechanism
    if settings.kafka_sasl_mechanism == "OAUTHBEARER":
        options["sasl_oauth_token_provider"] = MskIamTokenProvider(settings.kafka_msk_region)
    else:
        options.update(
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
        "request_timeout_ms": settings.kafka_request_timeout_ms,
        "retry_backoff_ms": 200,
        **security_options(settings),
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
        **security_options(settings),
    }
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


class _Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


StartableT = TypeVar("StartableT", bound=_Startable)


async def start_when_reachable(
    make: Callable[[], StartableT], what: str, timeout_sec: float
) -> StartableT:
    """`make()` then `start()` it, a fresh client per attempt, until the brokers answer.

    Why: a pod may start before Kafka (or while a broker restarts); exiting at once would put it
    in a crash loop that says less than a log line per attempt. Unreachable brokers are retried
    with backoff for `timeout_sec` (KAFKA_START_TIMEOUT_SEC), then the last error is raised and
    the service exits to be restarted. A fresh client each time: aiokafka's clients are not
    restartable after a failed `start()`."""
    deadline = time.monotonic() + timeout_sec
    attempt = 0
    while True:
        client = make()
        try:
            await client.start()
            return client
        except KafkaConnectionError as exc:
            await client.stop()
            attempt += 1
            left = deadline - time.monotonic()
            if left <= 0:
                log.error("kafka_unreachable", client=what, attempts=attempt, error=str(exc))
                raise
            delay = min(left, backoff_delay(attempt, 0.5, 10.0))
            log.warning("kafka_unreachable_retrying", client=what, attempt=attempt,
                        retry_in_sec=round(delay, 2), error=str(exc))  # fmt: skip
            await asyncio.sleep(delay)
