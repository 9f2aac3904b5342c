"""The log-type vocabulary, defined once: every topic, stream, parser and file-name rule is
derived from `LogType`.

A log type is a format a parser reads and a stream OpenObserve stores; its Kafka topic and stream
settings are named `KAFKA_TOPIC_{TYPE}` and `OPENOBSERVE_STREAM_{TYPE}` after its value, so
adding a type here and its two settings is the whole of the vocabulary change.
"""

from __future__ import annotations

from enum import StrEnum


class LogType(StrEnum):
    """One database log format; the value is the word used on the wire and in settings."""

    ERROR = "error"
    SLOWQUERY = "slowquery"
    GENERAL = "general"
    AUDIT = "audit"
    POSTGRESQL = "postgresql"


LOG_TYPES: tuple[str, ...] = tuple(t.value for t in LogType)
MYSQL_LOG_TYPES: tuple[LogType, ...] = (
    LogType.ERROR,
    LogType.SLOWQUERY,
    LogType.GENERAL,
    LogType.AUDIT,
)
POSTGRES_LOG_TYPES: tuple[LogType, ...] = (LogType.POSTGRESQL,)
