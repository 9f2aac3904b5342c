"""Terraform, offline: every .tf parses (python-hcl2), every module call passes exactly the
module's declared variables (all required ones, no unknown one), every module output used exists,
the example tfvars name declared variables, providers are pinned, and the resources say what the
design needs (table keys = common/tables.py, least-privilege IAM, no NAT for downloads, the
parameter group that makes the logs exist)."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest

from common.settings import TablesSettings
from common.tables import table_specs
from tests.deploy.conftest import TERRAFORM

MODULES = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
ENVIRONMENTS = sorted(p for p in (TERRAFORM / "environments").iterdir() if p.is_dir())
EXPECTED_MODULES = {
    "vpc",
    "iam",
    "dynamodb",
    "s3",
    "elasticache",
    "eks",
    "ecr",
    "msk",
    "rds",
    "kms",
}


def _unquote(value: Any) -> Any:
    return value.strip('"') if isinstance(value, str) else value


@cache
def _parse_dir(directory: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for tf in sorted(directory.glob("*.tf")):
        with tf.open() as f:
            for key, blocks in hcl2.load(f).items():
                merged.setdefault(key, []).extend(blocks if isinstance(blocks, list) else [blocks])
    return merged


def _named(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {_unquote(name): body for block in blocks for name, body in block.items()}


def _variables(directory: Path) -> dict[str, dict[str, Any]]:
    return _named(_parse_dir(directory).get("variable", []))


def _outputs(directory: Path) -> set[str]:
    return set(_named(_parse_dir(directory).get("output", [])))


def test_every_tf_file_parses_and_every_module_exists() -> None:
    files = sorted(TERRAFORM.rglob("*.tf"))
    assert len(files) >= 30
    for tf in files:
        with tf.open() as f:
            assert hcl2.load(f), tf
    assert {m.name for m in MODULES} == EXPECTED_MODULES
    for module in MODULES:
        assert {"main.tf", "variables.tf", "outputs.tf"} <= {p.name for p in module.glob("*.tf")}
        for name, var in _variables(module).items():
            assert var.get("description"), f"{module.name}.{name} has no description"
            assert var.get("type"), f"{module.name}.{name} has no type"


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda p: p.name)
def test_module_calls_match_the_modules_variables(env: Path) -> None:
    calls = _named(_parse_dir(env)["module"])
    assert calls
    for call_name, args in calls.items():
        source = (env / _unquote(args["source"])).resolve()
        declared = _variables(source)
        given = {k for k in args if k not in ("source", "__is_block__", "__comments__")}
        unknown = given - set(declared)
        assert not unknown, f"module.{call_name} passes undeclared {sorted(unknown)}"
        required = {n for n, v in declared.items() if "default" not in v}
        missing = required - given
        assert not missing, f"module.{call_name} misses required {sorted(missing)}"
    # Every module.X.Y reference names a call and one of its module's outputs.
    text = "\n".join(p.read_text() for p in env.glob("*.tf"))
    for call_name, output in set(re.findall(r"module\.([a-z0-9_]+)\.([a-z0-9_]+)", text)):
        assert call_name in calls, call_name
        source = (env / _unquote(calls[call_name]["source"])).resolve()
        assert output in _outputs(source), f"module.{call_name}.{output}"


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda p: p.name)
def test_example_tfvars_set_declared_variables_and_all_required_ones(env: Path) -> None:
    declared = _variables(env)
    with (env / "terraform.tfvars.example").open() as f:
        example = hcl2.load(f)
    given = {k for k in example if not k.startswith("__")}
    assert given <= set(declared), given - set(declared)
    assert {n for n, v in declared.items() if "default" not in v} <= given
    # var.X used in the environment are declared
    text = "\n".join(p.read_text() for p in env.glob("*.tf"))
    assert set(re.findall(r"\bvar\.([a-z0-9_]+)", text)) <= set(declared)


@pytest.mark.parametrize("env", ENVIRONMENTS, ids=lambda p: p.name)
def test_providers_are_pinned_exactly(env: Path) -> None:
    (terraform,) = _parse_dir(env)["terraform"]
    providers = terraform["required_providers"][0]
    for name, spec in providers.items():
        if name.startswith("__"):
            continue
        assert re.fullmatch(r"= \d+\.\d+\.\d+", _unquote(spec["version"])), (name, spec)
    assert "backend" in terraform


def test_module_variables_used_are_declared() -> None:
    for module in MODULES:
        text = "\n".join(p.read_text() for p in module.glob("*.tf"))
        used = set(re.findall(r"\bvar\.([a-z0-9_]+)", text))
        assert used <= set(_variables(module)), (module.name, used - set(_variables(module)))


def _resources(module: str, kind: str) -> dict[str, dict[str, Any]]:
    parsed = _parse_dir(TERRAFORM / "modules" / module)
    return {
        _unquote(name): body
        for block in parsed.get("resource", [])
        for rtype, named in block.items()
        if _unquote(rtype) == kind
        for name, body in named.items()
    }


def test_dynamodb_tables_have_the_keys_and_ttl_of_common_tables() -> None:
    parsed = _parse_dir(TERRAFORM / "modules" / "dynamodb")
    (local,) = parsed["locals"]
    tables = local["tables"]
    specs = {
        "instance": table_specs(TablesSettings())[0],
        "tracking": table_specs(TablesSettings())[1],
        "jobs": table_specs(TablesSettings())[2],
    }
    for key, spec in specs.items():
        assert _unquote(tables[key]["hash_key"]) == spec.hash_key
        assert _unquote(tables[key]["range_key"]) == spec.range_key
        assert _unquote(local["ttl_attribute"]) == spec.ttl_attribute
    (table,) = _resources("dynamodb", "aws_dynamodb_table").values()
    assert _unquote(table["billing_mode"]) == "PAY_PER_REQUEST"
    assert table["point_in_time_recovery"][0]["enabled"] is True
    assert table["ttl"][0]["enabled"] is True


def _policy(name: str) -> list[dict[str, Any]]:
    document = json.loads((TERRAFORM / "iam" / f"{name}.json").read_text())
    assert document["Version"] == "2012-10-17"
    statements: list[dict[str, Any]] = document["Statement"]
    return statements


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {a for s in statements for a in s["Action"]}


def test_iam_policies_are_least_privilege_per_service() -> None:
    discovery, processor = _policy("discovery"), _policy("processor")
    for statements in (discovery, processor):
        assert all(s["Effect"] == "Allow" for s in statements)
        assert not any(a in ("*", "s3:*", "dynamodb:*", "rds:*") for a in _actions(statements))
    d, p = _actions(discovery), _actions(processor)
    assert "rds:Describe*" in d
    assert not {a for a in d if a.startswith("rds:Download")}
    assert not {a for a in d if a.startswith("s3:")}
    assert {a for a in p if a.startswith("rds:")} == {
        "rds:DownloadDBLogFilePortion",
        "rds:DownloadCompleteDBLogFile",
    }
    (write,) = [s for s in processor if "s3:PutObject" in s["Action"]]
    assert all(r.endswith(("/${prefix}raw/*", "/${prefix}events/*")) for r in write["Resource"])
    assert "s3:DeleteObject" not in p
    tables = {
        n: {
            r.rsplit("/", 1)[-1]
            for s in st
            if "dynamodb:PutItem" in s["Action"]
            for r in s["Resource"]
        }
        for n, st in (("discovery", discovery), ("processor", processor))
    }
    assert tables == {
        "discovery": {"${instance_table}", "${tracking_table}"},
        "processor": {"${tracking_table}", "${jobs_table}"},
    }
    # Terraform fills the same documents: the module reads terraform/iam/<service>.json.
    iam_main = (TERRAFORM / "modules" / "iam" / "main.tf").read_text()
    assert 'templatefile("${path.module}/../../iam/${each.key}.json"' in iam_main


def test_vpc_never_routes_downloads_through_a_nat_gateway() -> None:
    variables = _variables(TERRAFORM / "modules" / "vpc")
    assert variables["nat_gateway_for_small_egress"]["default"] is False
    assert _unquote(variables["rds_api_egress"]["default"]) == "interface_endpoint"
    text = (TERRAFORM / "modules" / "vpc" / "main.tf").read_text()
    assert 'toset(["s3", "dynamodb"])' in text and '"Gateway"' in text
    assert '"rds"' in text  # the RDS interface endpoint
    for env in ENVIRONMENTS:
        call = _named(_parse_dir(env)["module"])["vpc"]
        assert "nat_gateway_for_small_egress" not in call, env.name


def test_rds_parameter_group_turns_the_logs_on() -> None:
    text = (TERRAFORM / "modules" / "rds" / "main.tf").read_text()
    for parameter in (
        "slow_query_log",
        "long_query_time",
        "log_output",
        "general_log",
        "server_audit_logging",
        "server_audit_events",
        "log_min_duration_statement",
    ):
        assert parameter in text, parameter
    assert re.search(r'log_output\s*=\s*"FILE"', text)  # TABLE would hide the files from the API
    assert re.search(r'slow_query_log\s*=\s*"1"', text)
    enabled = _variables(TERRAFORM / "modules" / "rds")["enabled"]
    assert enabled["default"] is False  # the POC cluster is off by default
