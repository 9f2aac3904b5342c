"""Every metric an alert or the dashboard uses exists in the code's Prometheus registry, with the
type the query assumes (a histogram's `_bucket`, a counter's `_total`) and the labels it matches.

Every name is read from the real registry (`registered_series` in conftest imports the modules
that register all the metrics of both services).
"""

from __future__ import annotations

import re

from tests.deploy.conftest import (
    TARGET_LABELS,
    alert_expressions,
    dashboard_expressions,
    metric_names,
    registered_series,
)


def _check(expressions: list[str]) -> set[str]:
    exposed = registered_series()
    used: set[str] = set()
    for expr in expressions:
        for name in metric_names(expr):
            assert name in exposed, f"{name} (in {expr!r}) is not a registered series"
            used.add(name)
        for name, matchers in re.findall(r"\b(aurora_[a-z0-9_]+)\{([^}]*)\}", expr):
            for label in re.findall(r"([a-z_]+)\s*(?:=~|!=|!~|=)", matchers):
                known = exposed[name][1] | TARGET_LABELS
                assert label in known, f"{name} has no label {label!r} (in {expr!r})"
    return used


def test_every_alert_metric_is_registered() -> None:
    used = _check(alert_expressions())
    # The seed's alerts and ours reach both services.
    assert {"aurora_rds_api_calls_total", "aurora_processor_consumer_lag"} <= used
    assert (
        "aurora_dynamodb_throttles_total" in used and "aurora_processor_s3_failures_total" in used
    )


def test_every_dashboard_metric_is_registered() -> None:
    used = _check(dashboard_expressions())
    assert len(used) >= 30


def test_the_check_catches_an_unknown_name_or_label() -> None:
    for bad in (
        'sum(aurora_processor_consumer_lagg{namespace="x"})',
        'aurora_processor_consumer_lag{stream="x"}',
        "aurora_processor_consumer_lag_total",
    ):
        try:
            _check([bad])
        except AssertionError:
            continue
        raise AssertionError(f"{bad} passed")
