"""structlog set-up: one JSON object per line (stdout, or a given stream), secrets redacted first.

Redaction works on keys (anything named like a password, token, secret or key) and on values
(AWS access key ids, `Authorization` headers, `user:password@` in URLs, `IDENTIFIED BY '...'`),
so a secret passed by mistake in a message or an exception text does not reach the log either.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

REDACTED = "***"

_SECRET_KEY = re.compile(
    r"(pass(word|wd|code)?|secret|token|api[_-]?key|authorization|credential|session[_-]?key)",
    re.IGNORECASE,
)
_SECRET_VALUE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # AWS access key ids (long-term AKIA, temporary ASIA).
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
    # Basic/Bearer credentials in a header dump.
    (re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}"), r"\1 " + REDACTED),
    # user:password@host in URLs.
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]+):[^@/\s]+@"), r"\1:" + REDACTED + "@"),
    # SQL password literals.
    (re.compile(r"(?i)(identified\s+by\s+)'[^']*'"), r"\1'" + REDACTED + "'"),
    (re.compile(r"(?i)(password\s*\(\s*)'[^']*'"), r"\1'" + REDACTED + "'"),
    (re.compile(r"(?i)(password\s*=?\s*)'[^']*'"), r"\1'" + REDACTED + "'"),
    # aws_secret_access_key=... in text.
    (re.compile(r"(?i)(secret[_-]?access[_-]?key\W{0,3})[A-Za-z0-9/+=]{20,}"), r"\1" + REDACTED),
)


def redact_text(text: str) -> str:
    """Mask what looks like a secret inside free text."""
    for pattern, replacement in _SECRET_VALUE_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_value(key: str | None, value: Any) -> Any:
    if key is not None and _SECRET_KEY.search(key) and value not in (None, ""):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(None, v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: redact secret keys and secret-looking values (runs last before render)."""
    for key in list(event_dict):
        event_dict[key] = _redact_value(key if key != "event" else None, event_dict[key])
    return event_dict


def configure_logging(level: str = "INFO", fmt: str = "json", stream: TextIO | None = None) -> None:
    """Configure structlog (and stdlib logging, for libraries) once per process.

    Lines go to `stream`, stdout by default (the services); a command whose stdout is its output
    (`aurora-processor parse` prints NDJSON) passes stderr."""
    numeric = logging.getLevelName(level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
    ]
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(stream),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout if stream is None else stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Libraries are chatty at INFO (aiokafka's group joins); keep them at WARNING.
    root.setLevel(max(numeric, logging.WARNING))
