"""MSK IAM authentication: settings choose SASL OAUTHBEARER, and the token is AWS's signed URL.

No MSK cluster is reachable here, so the token is made offline from static credentials with
AWS's own signer and its SigV4 query string is checked; the broker would verify the same URL.
"""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlparse

import pytest
from botocore.credentials import CredentialProvider, Credentials

from common.kafka import MskIamTokenProvider, make_consumer, make_producer
from common.settings import KafkaSettings, SettingsError, load_settings


class StaticCredentials(CredentialProvider):  # type: ignore[misc]
    METHOD = "static-test"

    def load(self) -> Credentials:
        return Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")


def _msk_settings(**extra: str) -> KafkaSettings:
    return KafkaSettings(
        kafka_brokers="b-1.msk.example:9098",
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="OAUTHBEARER",
        **extra,
    )


async def test_oauthbearer_settings_give_the_client_an_msk_token_provider() -> None:
    producer = make_producer(_msk_settings(KAFKA_MSK_REGION="eu-west-1"))
    client = producer.client
    assert client._security_protocol == "SASL_SSL"
    assert client._sasl_mechanism == "OAUTHBEARER"
    provider = client._sasl_oauth_token_provider
    assert isinstance(provider, MskIamTokenProvider)
    assert provider.region == "eu-west-1"
    consumer = make_consumer(_msk_settings(), "t")
    assert isinstance(consumer._client._sasl_oauth_token_provider, MskIamTokenProvider)


async def test_scram_keeps_user_and_password_and_has_no_token_provider() -> None:
    settings = KafkaSettings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="svc",
        kafka_sasl_password="pw",
    )
    client = make_producer(settings).client
    assert client._sasl_mechanism == "SCRAM-SHA-256"
    assert client._sasl_plain_username == "svc"
    assert client._sasl_oauth_token_provider is None


def test_msk_region_defaults_to_aws_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_MSK_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "ap-southeast-2")
    assert load_settings().kafka.kafka_msk_region == "ap-southeast-2"
    monkeypatch.setenv("KAFKA_MSK_REGION", "us-west-2")
    assert load_settings().kafka.kafka_msk_region == "us-west-2"


def test_an_unknown_mechanism_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "GSSAPI")
    with pytest.raises(SettingsError, match="KAFKA_SASL_MECHANISM"):
        load_settings()


async def test_token_is_a_sigv4_presigned_kafka_connect_url_and_is_reused() -> None:
    provider = MskIamTokenProvider("eu-west-1", StaticCredentials())
    token = await provider.token()
    url = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert parsed.scheme == "https"
    assert parsed.hostname == "kafka.eu-west-1.amazonaws.com"
    assert query["Action"] == ["kafka-cluster:Connect"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith("AKIDEXAMPLE/")
    assert query["X-Amz-Credential"][0].endswith("/eu-west-1/kafka-cluster/aws4_request")
    assert len(query["X-Amz-Signature"][0]) == 64
    assert int(query["X-Amz-Expires"][0]) == 900
    assert provider._expires_at > time.time() + 600
    assert await provider.token() == token  # reused while fresh, not re-signed per connection


async def test_empty_credentials_are_a_clear_error() -> None:
    class Empty(StaticCredentials):
        def load(self) -> Credentials:
            return Credentials("", "")

    with pytest.raises(ValueError, match="Credentials can not be empty"):
        await MskIamTokenProvider("eu-west-1", Empty()).token()
