"""The `# Key: value` attributes of slow-log headers: lower-cased names and stable value types.

OpenObserve fixes a column's type from the first value it sees, so each known attribute always
gets the same type (an InnoDB transaction id that happens to be all digits stays a string).
Unknown attributes get a type from their value: integer, decimal number, or string.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from operator import call, itemgetter
from typing import Any

_FLOAT_RE = re.compile(r"-?\d+\.\d*\Z", re.ASCII)

_INT = [
    "Rows_sent",
    "Rows_examined",
    "Rows_affected",
    "Rows_read",
    "Thread_id",
    "Errno",
    "Killed",
    "Bytes_received",
    "Bytes_sent",
    "Read_first",
    "Read_last",
    "Read_key",
    "Read_next",
    "Read_prev",
    "Read_rnd",
    "Read_rnd_next",
    "Sort_merge_passes",
    "Sort_range_count",
    "Sort_rows",
    "Sort_scan_count",
    "Created_tmp_disk_tables",
    "Created_tmp_tables",
    "Last_errno",
    "Tmp_tables",
    "Tmp_disk_tables",
    "Tmp_table_sizes",
    "Merge_passes",
    "InnoDB_IO_r_ops",
    "InnoDB_IO_r_bytes",
    "InnoDB_pages_distinct",
    "Log_slow_rate_limit",
    "Id",
]
_FLOAT = [
    "Query_time",
    "Lock_time",
    "InnoDB_IO_r_wait",
    "InnoDB_rec_lock_wait",
    "InnoDB_queue_wait",
]
_STR = [
    "Schema",
    "InnoDB_trx_id",
    "QC_Hit",
    "QC_hit",
    "Full_scan",
    "Full_join",
    "Tmp_table",
    "Tmp_table_on_disk",
    "Filesort",
    "Filesort_on_disk",
    "Log_slow_rate_type",
    "Start",
    "End",
]


def convert_value(value: str) -> Any:
    """Type of an unknown attribute, from its value."""
    if value.isdigit():
        return int(value)
    if _FLOAT_RE.match(value) is not None:
        return float(value)
    if value[:1] == "-" and value[1:].isdigit():
        return int(value)
    return value


Caster = Callable[[str], Any]
# Builtins as casters: no Python frame per value. They raise ValueError on an odd value; the
# caller then redoes the line with `update_general`, which flags it.
KNOWN: dict[str, tuple[str, Caster]] = {
    **{k: (k.lower(), int) for k in _INT},
    **{k: (k.lower(), float) for k in _FLOAT},
    **{k: (k.lower(), str) for k in _STR},
}


# int() and float() take values no server writes as a number (`nan`, `inf`, `1_000`): a line
# whose numeric values hold an `n` or a `_` takes the general path, which reads them strictly.
_PLAIN_NUMBER: dict[Caster, re.Pattern[str]] = {
    int: re.compile(r"[-+]?\d+\Z", re.ASCII),
    float: re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\Z", re.ASCII),
}
_KEY_TOKEN = re.compile(r"\w+:\Z", re.ASCII)
_KV = re.compile(r"(\w+):\s+(\S+|\Z)", re.ASCII)
# Field names, casters, and what picks the values of numeric attributes from the value tokens.
Plan = tuple[tuple[str, ...], tuple[Caster, ...], Callable[[list[str]], Any] | None]
_INVALID: Plan = ((), (), None)


class AttributeNames:
    """Parses `# Key: value …` lines into typed, lower-cased fields.

    A server writes the same keys in the same order on every entry, so the plan for a key
    sequence (field names and casters) is computed once; the line is then cut with `str.split`
    and converted with builtins, all in C. A line whose tokens do not pair up as `Key: value`
    takes the general regex path, which is the reference behaviour (pt-query-digest's).
    """

    __slots__ = ("plans", "table")

    def __init__(self) -> None:
        self.table: dict[str, tuple[str, Caster]] = dict(KNOWN)
        self.plans: dict[tuple[str, ...], Plan] = {}

    def lookup(self, key: str) -> tuple[str, Caster]:
        entry = self.table.get(key)
        if entry is None:
            entry = (key.lower(), convert_value)
            if len(self.table) < 4096:
                self.table[key] = entry
        return entry

    def _plan(self, signature: tuple[str, ...]) -> Plan:
        plan: Plan
        if not all(_KEY_TOKEN.match(k) for k in signature):
            plan = _INVALID
        else:
            entries = [self.lookup(k[:-1]) for k in signature]
            numeric = [i for i, e in enumerate(entries) if e[1] in _PLAIN_NUMBER]
            plan = (
                tuple(e[0] for e in entries),
                tuple(e[1] for e in entries),
                itemgetter(*numeric) if numeric else None,
            )
        if len(self.plans) < 1024:
            self.plans[signature] = plan
        return plan

    def update(self, fields: dict[str, Any], line: str) -> tuple[str, ...]:
        """Add the attributes of a header line (starting with `#`) to `fields`.

        Returns the names of known attributes whose value is not of their type (`()` when all
        are): such a field is left out, its text kept in `<name>_raw`, so a column never changes
        type.
        """
        tokens = line[1:].split()
        if not len(tokens) & 1:
            signature = tuple(tokens[0::2])
            plan = self.plans.get(signature) or self._plan(signature)
            if plan is not _INVALID:
                values = tokens[1::2]
                numbers = "" if plan[2] is None else "".join(plan[2](values))
                if "n" not in numbers and "N" not in numbers and "_" not in numbers:
                    try:
                        fields.update(zip(plan[0], map(call, plan[1], values), strict=True))
                        return ()
                    except ValueError:
                        pass  # an odd value: the general path below converts it safely
        return self.update_general(fields, line)

    def update_general(self, fields: dict[str, Any], line: str) -> tuple[str, ...]:
        invalid: list[str] = []
        for key, value in _KV.findall(line):
            name, caster = self.lookup(key)
            try:
                plain = _PLAIN_NUMBER.get(caster)
                if plain is not None and plain.match(value) is None:
                    raise ValueError(value)
                fields[name] = caster(value)
            except ValueError:
                fields.pop(name, None)
                fields[name + "_raw"] = value
                invalid.append(name)
        return tuple(invalid)
