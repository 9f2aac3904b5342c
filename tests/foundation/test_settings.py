"""Settings: env vars, the seed's names, errors that name the variable, README in sync."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.settings import SettingsError, load_settings, markdown_table


def test_defaults_match_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("KAFKA_BROKERS", "VALKEY_URL", "TRACKING_TABLE", "S3_BUCKET"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.kafka.kafka_consumer_group == "aurora-processor-group"
    assert s.kafka.topics()["slowquery"] == "aurora-logs-slowquery"
    assert s.openobserve.streams()["postgresql"] == "aurora_postgresql_logs"
    assert s.tables.tracking_table == "tracking"
    assert s.aws.aws_retry_mode == "adaptive"


@pytest.mark.parametrize(
    ("var", "value", "check"),
    [
        ("KAFKA_BROKERS", "a:1,b:2", lambda s: s.kafka.bootstrap_servers == ["a:1", "b:2"]),
        ("VALKEY_URL", "rediss://v:6380/1", lambda s: s.valkey.valkey_url == "rediss://v:6380/1"),
        ("INSTANCE_TABLE", "inst", lambda s: s.tables.instance_table == "inst"),
        ("TRACKING_TABLE", "trk", lambda s: s.tables.tracking_table == "trk"),
        ("SHARD_ID", "0", lambda s: s.discovery.shard_id == 0),
        ("TOTAL_SHARDS", "4", lambda s: s.discovery.total_shards == 4),
        ("DISCOVERY_INTERVAL_MIN", "5", lambda s: s.discovery.interval_sec == 300),
        ("RDS_API_RATE_LIMIT", "3.5", lambda s: s.rds.rds_api_rate_limit == 3.5),
        (
            "OPENOBSERVE_URL",
            "http://o2:5080",
            lambda s: s.openobserve.openobserve_url == "http://o2:5080",
        ),
        ("OPENOBSERVE_USER", "me@x.io", lambda s: s.openobserve.openobserve_user == "me@x.io"),
        (
            "OPENOBSERVE_PASS",
            "pw",
            lambda s: s.openobserve.openobserve_pass.get_secret_value() == "pw",
        ),
        ("AWS_REGION", "eu-west-1", lambda s: s.aws.aws_region == "eu-west-1"),
    ],
)
def test_seed_variable_names_are_read(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, check: object
) -> None:
    monkeypatch.setenv(var, value)
    assert callable(check)
    assert check(load_settings())


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("TOTAL_SHARDS", "zero"),
        ("AWS_RETRY_MODE", "sometimes"),
        ("DISCOVERY_INTERVAL_SEC", "-1"),
        ("OPENOBSERVE_BATCH_BYTES", "12"),
        ("S3_PREFIX", "no-slash"),
    ],
)
def test_bad_value_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError, match=var):
        load_settings()


def test_shard_must_be_below_total(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARD_ID", "3")
    monkeypatch.setenv("TOTAL_SHARDS", "3")
    with pytest.raises(SettingsError, match="SHARD_ID"):
        load_settings()


def test_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [row for row in markdown_table().splitlines()[2:] if row not in readme]
    assert not missing, (
        "README's settings table is stale; regenerate with `python -m common.settings`"
    )
