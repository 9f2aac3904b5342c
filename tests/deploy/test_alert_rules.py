"""The chart's Prometheus alert rules, proved with Prometheus's own `promtool`.

Why: an alert is only exercised the day it is needed, and a wrong one stays silent (a threshold on
the wrong side, a label the code does not set, a `sum` over the wrong labels). test_metric_names.py
proves the names exist; this proves the expressions behave. `promtool check rules` validates each
environment's rendered rule file, and `promtool test rules` runs alert_rule_cases.yaml (promtool's
own unit-test format): for every alert, a case where it fires and one just below its threshold
where it does not, on series named and labelled as the services export them.

promtool is not on PyPI: `make deploy-tools` (part of `make test`) takes it out of Debian's
`prometheus` package into .tools/promtool; the promtool tests are skipped where it is missing.
"""

from __future__ import annotations

import copy
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from common.log_types import LOG_TYPES
from tests.deploy.conftest import PROMTOOL, TARGET_LABELS, documents, registered_series

CASES = Path(__file__).with_name("alert_rule_cases.yaml")
ENVIRONMENTS = ("poc", "production")
# A seed threshold moved past the cases on either side: the firing case, then the quiet one fails.
# alert -> (threshold above its firing case, threshold below its quiet case)
MOVED_THRESHOLDS = {
    "AuroraLogsRdsApiErrors": ("11.5", "8.5"),  # cases: 11 and 9 errors a minute
    "AuroraLogsConsumerLag": ("1001", "999"),  # 1001 and 1000 messages
    "AuroraLogsProcessorErrorRate": ("0.052", "0.048"),  # 5.1 % and 4.9 %
    "AuroraLogsDynamoDbThrottling": ("1", "-1"),  # 1 and 3 new throttles, and none
    "AuroraLogsS3UploadFailures": ("0.012", "0.008"),  # 1.1 % and 0.9 %
}
SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')


@pytest.fixture(scope="module")
def promtool() -> Path:
    if not PROMTOOL.exists():
        pytest.skip(
            "promtool is not installed: `make deploy-tools` takes it out of Debian's prometheus "
            "package (apt-get download, no install) into .tools/promtool"
        )
    return PROMTOOL


def _rule_file(rendered: dict[str, dict[str, str]], env: str) -> dict[str, Any]:
    """The PrometheusRule's spec: exactly a Prometheus rule file (`{"groups": [...]}`)."""
    (rule,) = documents(rendered[env]["prometheusrule.yaml"])
    assert rule["kind"] == "PrometheusRule"
    return {"groups": rule["spec"]["groups"]}


def _alerts(rules: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in rules["groups"] for r in g["rules"] if "alert" in r}


def _cases() -> dict[str, Any]:
    cases: dict[str, Any] = yaml.safe_load(CASES.read_text())
    return cases


def _checks(cases: dict[str, Any]) -> list[dict[str, Any]]:
    """Every alert_rule_test entry (alertname, eval_time, exp_alerts) of every test group."""
    return [c for test in cases["tests"] for c in test["alert_rule_test"]]


def _suite(tmp_path: Path, rules: dict[str, Any], cases: dict[str, Any]) -> Path:
    """Write `rules` and `cases` (pointed at them) for promtool; the unit-test file's path.

    promtool compares every annotation: each expected alert gets its rule's description, which is
    static text, so that the cases give only the summary (the templated part)."""
    rule_path = tmp_path / "rules.yaml"
    rule_path.write_text(yaml.safe_dump(rules, sort_keys=False))
    suite = copy.deepcopy(cases)
    suite["rule_files"] = [str(rule_path)]
    alerts = _alerts(rules)
    for check in _checks(suite):
        description = alerts[check["alertname"]].get("annotations", {}).get("description")
        for expected in check["exp_alerts"]:
            annotations = expected.setdefault("exp_annotations", {})
            if description is not None:
                annotations.setdefault("description", description)
    test_path = tmp_path / "alert_rule_tests.yaml"
    test_path.write_text(yaml.safe_dump(suite, sort_keys=False))
    return test_path


def _promtool(promtool: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """promtool's exit status and its output (the failures' report goes to stderr) as stdout."""
    return subprocess.run(
        [str(promtool), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=120,
        check=False,
    )


def _only(cases: dict[str, Any], alert: str) -> dict[str, Any]:
    """The test groups that check `alert`, with only their checks of it."""
    kept = copy.deepcopy(cases)
    kept["tests"] = []
    for test in cases["tests"]:
        checks = [c for c in test["alert_rule_test"] if c["alertname"] == alert]
        if checks:
            kept["tests"].append({**copy.deepcopy(test), "alert_rule_test": checks})
    return kept


def _with_threshold(rules: dict[str, Any], alert: str, threshold: str) -> dict[str, Any]:
    """`rules` with `alert`'s final `> N` comparison made `> threshold`."""
    moved = copy.deepcopy(rules)
    rule = _alerts(moved)[alert]
    expr, n = re.subn(r">\s*[0-9.]+\s*$", f"> {threshold}", rule["expr"].rstrip())
    assert n == 1, f"{alert}: no final `> N` in {rule['expr']!r}"
    rule["expr"] = expr
    return moved


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_promtool_checks_the_rule_file(
    env: str, promtool: Path, rendered: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    rules = _rule_file(rendered, env)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    done = _promtool(promtool, "check", "rules", path)
    assert done.returncode == 0, done.stdout
    count = sum(len(g["rules"]) for g in rules["groups"])
    assert f"SUCCESS: {count} rules found" in done.stdout, done.stdout


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alert_fires_and_stays_quiet_as_its_cases_say(
    env: str, promtool: Path, rendered: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    done = _promtool(
        promtool, "test", "rules", _suite(tmp_path, _rule_file(rendered, env), _cases())
    )
    assert done.returncode == 0, done.stdout
    assert "SUCCESS" in done.stdout


@pytest.mark.parametrize("alert", sorted(MOVED_THRESHOLDS))
def test_the_cases_sit_on_either_side_of_each_seed_threshold(
    alert: str, promtool: Path, rendered: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    """A threshold moved past the firing case, or below the quiet one, fails promtool: the
    cases would catch a changed threshold, and the harness can fail."""
    rules = _rule_file(rendered, "production")
    cases = _only(_cases(), alert)
    passing = _promtool(promtool, "test", "rules", _suite(tmp_path, rules, cases))
    assert passing.returncode == 0, passing.stdout
    for side, threshold in zip(("above", "below"), MOVED_THRESHOLDS[alert], strict=True):
        moved = _with_threshold(rules, alert, threshold)
        (tmp_path / side).mkdir()
        done = _promtool(promtool, "test", "rules", _suite(tmp_path / side, moved, cases))
        assert done.returncode != 0, f"{alert} with `> {threshold}` passed:\n{done.stdout}"
        assert f"alertname: {alert}" in done.stdout, done.stdout


def test_promtool_fails_on_a_wrong_expectation(
    promtool: Path, rendered: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    alert = next(c["alertname"] for c in _checks(_cases()) if c["exp_alerts"])
    cases = _only(_cases(), alert)
    firing = next(c for c in _checks(cases) if c["exp_alerts"])
    firing["exp_alerts"] = []  # expected quiet where it fires
    done = _promtool(
        promtool, "test", "rules", _suite(tmp_path, _rule_file(rendered, "production"), cases)
    )
    assert done.returncode != 0, done.stdout
    assert "FAILED" in done.stdout and f"alertname: {alert}" in done.stdout


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_alert_has_a_firing_and_a_quiet_case(
    env: str, rendered: dict[str, dict[str, str]]
) -> None:
    """A new alert without unit tests fails here; so does a case naming an alert that does not
    exist (promtool would pass a misspelt alertname expected not to fire)."""
    alerts = set(_alerts(_rule_file(rendered, env)))
    checks = _checks(_cases())
    firing = {c["alertname"] for c in checks if c["exp_alerts"]}
    quiet = {c["alertname"] for c in checks if not c["exp_alerts"]}
    assert not alerts - firing, f"alerts without a case where they fire: {sorted(alerts - firing)}"
    assert not alerts - quiet, (
        f"alerts without a case where they stay quiet: {sorted(alerts - quiet)}"
    )
    assert not (firing | quiet) - alerts, (
        f"cases of unknown alerts: {sorted((firing | quiet) - alerts)}"
    )


def test_the_cases_use_the_series_the_code_exports() -> None:
    """Every input series is a registered name with the code's label names (plus the scrape's);
    log types are the code's; values are strings (YAML would read an unquoted 0x20 as 32)."""
    exposed = registered_series()
    cases = _cases()
    assert cases["rule_files"] == [], "rule_files is filled in by the test"
    for test in cases["tests"]:
        for series in test["input_series"]:
            assert isinstance(series["values"], str), f"unquoted values in {test['name']!r}"
            match = SERIES.match(series["series"])
            assert match, series["series"]
            name, labels = match[1], dict(LABEL.findall(match[2]))
            assert name in exposed, f"{name} is not a registered series ({test['name']!r})"
            unknown = set(labels) - exposed[name][1] - TARGET_LABELS
            assert not unknown, f"{name} has no label {sorted(unknown)} ({test['name']!r})"
            assert labels.get("log_type", LOG_TYPES[0]) in LOG_TYPES, series["series"]
