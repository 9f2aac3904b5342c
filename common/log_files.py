"""RDS log file names: which log type a file is, and whether it is the active (growing) one.

Names per engine (rds-api.md §2): aurora-mysql `error/mysql-error-running.log[.YYYY-MM-DD.H]`,
`slowquery/mysql-slowquery.log[.YYYY-MM-DD.H]`, `general/mysql-general.log[.…]`,
`audit/audit.log.N.YYYY-MM-DD-HH-MM.SEQ`; aurora-postgresql `error/postgresql.log.YYYY-MM-DD-HHMM`
(`.csv` with csvlog, `.gz` when Aurora compressed it). `error/mysql-error.log` is a 5-minute
staging file whose content reappears in the running log, so it is not followed.
"""

from __future__ import annotations

from common.log_types import LOG_TYPES, LogType

__all__ = ["LOG_TYPES", "LogType", "is_active_name", "log_type_of"]

_ACTIVE_NAMES = {
    "error/mysql-error-running.log",
    "slowquery/mysql-slowquery.log",
    "general/mysql-general.log",
}


def log_type_of(engine: str, name: str) -> LogType | None:
    """The log type of file `name` on `engine`, or None for files the system does not follow."""
    if "postgres" in engine:
        return LogType.POSTGRESQL if name.startswith("error/postgresql.log") else None
    if name.startswith("error/mysql-error-running.log"):
        return LogType.ERROR
    if name.startswith("slowquery/mysql-slowquery.log"):
        return LogType.SLOWQUERY
    if name.startswith("general/mysql-general.log"):
        return LogType.GENERAL
    if name.startswith(("audit/audit.log", "audit/server_audit.log")):
        return LogType.AUDIT
    return None


def is_active_name(name: str) -> bool:
    """True for the MySQL names that keep growing and are reused after each rotation."""
    return name in _ACTIVE_NAMES
