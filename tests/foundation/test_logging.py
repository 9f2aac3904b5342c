"""Log lines are JSON, one per event, and secrets never reach them."""

from __future__ import annotations

import json

import pytest
import structlog
from hypothesis import given
from hypothesis import strategies as st

from common.logging import REDACTED, configure_logging, redact_text


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    configure_logging("INFO", "json")
    return capsys


def _lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


def test_one_json_object_per_event(json_logs: pytest.CaptureFixture[str]) -> None:
    log = structlog.get_logger("t")
    log.info("first", instance_id="db-1")
    log.warning("second", n=2)
    lines = _lines(json_logs)
    assert [line["event"] for line in lines] == ["first", "second"]
    assert lines[0]["instance_id"] == "db-1"
    assert lines[1]["level"] == "warning"
    assert "timestamp" in lines[0]


@pytest.mark.parametrize(
    ("fields", "secret"),
    [
        ({"password": "hunter2hunter2"}, "hunter2hunter2"),
        ({"openobserve_pass": "s3cr3t-pass"}, "s3cr3t-pass"),
        ({"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}, "dXNlcjpwYXNz"),
        ({"url": "redis://user:topsecret@valkey:6379/0"}, "topsecret"),
        ({"key_id": "AKIAIOSFODNN7EXAMPLE"}, "AKIAIOSFODNN7EXAMPLE"),
        ({"sql": "CREATE USER 'a'@'%' IDENTIFIED BY 'p@ss w0rd'"}, "p@ss w0rd"),
        (
            {"error": "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
            "wJalrXUtnFEMI",
        ),
        ({"nested": [{"token": "tok-123456"}]}, "tok-123456"),
    ],
)
def test_secrets_are_redacted(
    json_logs: pytest.CaptureFixture[str], fields: dict[str, object], secret: str
) -> None:
    structlog.get_logger("t").info("something", **fields)
    out = json_logs.readouterr().out
    assert secret not in out
    assert REDACTED in out


def test_exception_text_is_redacted(json_logs: pytest.CaptureFixture[str]) -> None:
    try:
        raise RuntimeError("connect to redis://u:leaked-password@host failed")
    except RuntimeError:
        structlog.get_logger("t").exception("failed")
    out = json_logs.readouterr().out
    assert "leaked-password" not in out
    assert "RuntimeError" in out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_identified_by_literal_never_survives(secret: str) -> None:
    if "'" in secret:
        return
    text = f"ALTER USER x IDENTIFIED BY '{secret}'"
    assert redact_text(text) == f"ALTER USER x IDENTIFIED BY '{REDACTED}'"
