"""Session fixtures: one local stack (real tansu, Valkey, moto and our emulators) for the run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from common.settings import Settings, load_settings
from common.valkey import ValkeyGuard, valkey_client
from devstack.provision import scoped_environ
from devstack.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The stack, started once, in a directory of its own (a running `make demo` is not touched)."""
    root: Path = tmp_path_factory.mktemp("devstack")
    local = Stack(root)
    local.up()
    try:
        yield local
    finally:
        local.down()


@pytest.fixture(scope="session")
def stack_env(stack: Stack) -> Iterator[dict[str, str]]:
    """The stack's variables, also set in os.environ for the session (botocore reads them)."""
    env = stack.env()
    with scoped_environ(env):
        yield env


@pytest.fixture
async def guard(settings: Settings) -> AsyncIterator[ValkeyGuard]:
    """The session's Valkey behind a guard (tests use key prefixes of their own)."""
    client = valkey_client(settings.valkey)
    try:
        yield ValkeyGuard(client)
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def settings(stack_env: dict[str, str]) -> Settings:
    assert os.environ["KAFKA_BROKERS"] == stack_env["KAFKA_BROKERS"]
    return load_settings(kafka_session_timeout_ms=1000, kafka_heartbeat_interval_ms=200)
