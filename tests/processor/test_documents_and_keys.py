"""Pure pieces the processor shares with the demo: event ids, documents, archive keys, log types."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.log_files import is_active_name, log_type_of
from processor.documents import FileContext, event_id, to_document
from processor.parsers import parser_for
from processor.sinks.s3_keys import archive_key

CTX = FileContext(
    "123456789012", "eu-west-1", "orders", "orders-1", "aurora-mysql", "slowquery",
    "slowquery/mysql-slowquery.log.2026-11-23.9", "db-ABC", "slowquery@2026-11-23.09",
)  # fmt: skip


def test_event_id_is_the_truncated_sha256_of_the_design() -> None:
    # sha256("db-1|error@2026-11-23.09|0"), first 32 hex digits.
    import hashlib

    full = hashlib.sha256(b"db-1|error@2026-11-23.09|0").hexdigest()
    assert event_id("db-1", "error@2026-11-23.09", 0) == full[:32]


@given(st.text(min_size=1), st.text(min_size=1), st.integers(0, 2**40), st.integers(0, 2**40))
def test_event_ids_differ_by_offset_and_repeat_for_the_same_range(
    instance: str, name: str, a: int, b: int
) -> None:
    assert event_id(instance, name, a) == event_id(instance, name, a)
    assert (event_id(instance, name, a) == event_id(instance, name, b)) == (a == b)


def test_document_carries_every_field_of_the_contract() -> None:
    entry = (
        b"# Time: 2026-11-23T09:15:38.660108Z\n# User@Host: app[app] @ [10.0.0.2] Id: 26\n"
        b"# Query_time: 2.000231 Lock_time: 0.000000 Rows_sent: 1 Rows_examined: 1\n"
        b"SET timestamp=1795425338;\nselect sleep(2);\n"
    )
    parser = parser_for("slowquery", base_offset=4096)
    (event,) = parser.feed(entry) + parser.flush()
    doc = to_document(event, CTX, "batch-1")
    for key in (
        "_timestamp", "event_time", "event_id", "batch_id", "account", "region", "cluster_id",
        "instance_id", "engine", "log_type", "log_file_name", "offset", "resource_id",
        "generation",
    ):  # fmt: skip
        assert key in doc, key
    assert doc["offset"] == 4096
    assert doc["event_id"] == event_id(CTX.resource_id, CTX.generation, 4096)
    assert doc["_timestamp"] == int(event.event_time.timestamp() * 1e6)  # type: ignore[union-attr]
    assert all(re.fullmatch(r"[a-z0-9_]+", k) for k in doc), sorted(doc)


def test_document_without_event_time_gets_the_ingest_time() -> None:
    parser = parser_for("error")
    (event,) = parser.feed(b"a line no format knows\n") + parser.flush()
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    doc = to_document(event, CTX, "b", now=now)
    assert doc["_timestamp"] == int(now.timestamp() * 1e6)
    assert doc["parse_error"] is True


def test_archive_key_follows_the_design() -> None:
    key = archive_key(
        "logs/", "aurora-mysql", "orders", "orders-1", "slowquery",
        "slowquery/mysql-slowquery.log.2026-11-23.9", 0, 1048576,
        datetime(2026, 11, 23, tzinfo=UTC), "zst",
    )  # fmt: skip
    assert key == (
        "logs/raw/aurora-mysql/orders/orders-1/slowquery/dt=2026-11-23/"
        "mysql-slowquery.log.2026-11-23.9.000000000000-000001048576.zst"
    )


@pytest.mark.parametrize(
    ("engine", "name", "log_type"),
    [
        ("aurora-mysql", "error/mysql-error-running.log", "error"),
        ("aurora-mysql", "error/mysql-error-running.log.2024-01-04.9", "error"),
        ("aurora-mysql", "error/mysql-error.log", None),
        ("aurora-mysql", "slowquery/mysql-slowquery.log.2021-12-03.20", "slowquery"),
        ("aurora-mysql", "general/mysql-general.log", "general"),
        ("aurora-mysql", "audit/audit.log.2.2024-01-04-09-30.1", "audit"),
        ("mysql", "audit/server_audit.log.3", "audit"),
        ("aurora-mysql", "external/mysql-external.log", None),
        ("aurora-postgresql", "error/postgresql.log.2024-01-01-1400", "postgresql"),
        ("aurora-postgresql", "error/postgresql.log.2024-01-01-1400.gz", "postgresql"),
        ("aurora-postgresql", "error/postgres.log", None),
    ],
)
def test_log_type_of(engine: str, name: str, log_type: str | None) -> None:
    assert log_type_of(engine, name) == log_type


def test_active_names() -> None:
    assert is_active_name("slowquery/mysql-slowquery.log")
    assert not is_active_name("slowquery/mysql-slowquery.log.2021-12-03.20")
