"""A DownloadDBLogFilePortion reader that turns RDS's unreliable pages into exact bytes.

Byte offsets are the truth; markers are RDS's and only ever sent back as RDS gave them (a marker
is never built, and no file name is ever built from one). Where a marker reads `segment:offset`
its offset is taken as RDS's claim of where the next page starts, which is how overlapping pages
are detected. What the reader survives (docs/reference/rds-api.md §1, devstack/rds/README.md):

* a page cut at 1 MiB, ending in `\\n [Your log message was truncated]\\n`: the page is dropped
  and the same marker asked again for fewer lines (half, or as many whole lines as the cut page
  held), so the truncated page's marker — sometimes one byte past the cut (aws-cli #3079) — is
  never followed; one line over 1 MiB raises `LineTooLong`;
* bytes served twice at a page boundary (the marker points back): the repeat is checked against
  what was read and skipped; a page that would start after the bytes read raises `MarkerGap`;
* an empty page while data is pending (its marker may have advanced past the data): the same
  marker is asked again; `Stalled` after `max_empty_pages` in a row;
* `AdditionalDataPending=false` too early, or left out: reading stops only when a page comes
  back empty and not pending (a re-check), so a caught-up file costs one extra call;
* Marker "0" at the end of a segment on a reused live name (`slowquery/mysql-slowquery.log`
  across the hour): the old segment's last data is delivered, then `End(SEGMENT_END)`. The bytes
  after it belong to a new file; the rotated name comes from DescribeDBLogFiles. When RDS instead
  echoes the old marker with no data, that reads as `End(CAUGHT_UP)`: the listing shows the
  rotation, and the rotated file is read on from the same offset;
* tail mode (no marker) over 1 MB answering AdditionalDataPending=true;
* `DBLogFileNotFoundFault`: `End(VANISHED)`, an outcome, not an exception;
* the binary-data `InvalidParameterValue`: `BinaryData` (read that range with the complete
  download), and the other errors of `errors.py`.

Every call goes through `common.rds.RdsApi` (the one door: the shared token bucket, counted in
`aurora_rds_api_calls_total`, `Throttling` penalising the bucket and retried there). A bare
aiobotocore client is taken too (tools, tests): it is wrapped unmetered, and `before_call()` is
awaited before each call. The door's errors become this reader's (errors.py), which the
FileWorker decides on.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from common.rds import RdsApi
from common.rds import RdsError as ApiError
from processor.download.errors import (
    LineTooLong,
    MarkerGap,
    OverlapMismatch,
    ServerError,
    Stalled,
    UnexpectedAnswer,
    error_for,
)
from processor.download.hooks import BeforeCall, no_wait

TRUNCATED = b"\n [Your log message was truncated]\n"
MAX_LINES = 10000  # the per-call maximum rds-pgbadger PR #10 reports
KEEP_BYTES = 1 << 20  # delivered bytes kept to check a repeated page boundary against
PAGE_TARGET = 0.9 * (1 << 20)  # bytes a page is sized for (RDS cuts pages at 1 MiB)
_MARKER = re.compile(r"^.+:([0-9]+)$")


def marker_offset(marker: str | None) -> int | None:
    """RDS's claim of the byte offset a marker stands for: `"0"` is 0, `seg:N` is N, anything
    else is opaque (None). Used to detect overlaps, never to build a marker or a name."""
    if marker is None:
        return None
    if marker == "0":
        return 0
    found = _MARKER.match(marker)
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class Position:
    """Where to read on: byte `offset` of the file and the marker RDS gave with it (None: start
    at Marker "0" and skip `offset` bytes, which reads them again)."""

    offset: int = 0
    marker: str | None = None


@dataclass(frozen=True)
class Tail:
    """Start with the last `lines` lines (tail mode: no Marker); offsets come from the marker."""

    lines: int = 1


@dataclass(frozen=True)
class Page:
    """New bytes of the file: `data` starts at byte `offset`; `marker` resumes at `end`."""

    data: bytes
    offset: int
    marker: str

    @property
    def end(self) -> int:
        return self.offset + len(self.data)


class EndReason(StrEnum):
    CAUGHT_UP = "caught_up"  # an empty, not-pending answer: nothing more for now
    SEGMENT_END = "segment_end"  # Marker "0": the generation under the live name is complete
    VANISHED = "vanished"  # DBLogFileNotFoundFault: the name is not listed any more


@dataclass(frozen=True)
class End:
    """The last item of a read. `offset` is where the delivered bytes end, `marker` resumes
    there (None when there is nothing to resume: a segment end or a vanished file)."""

    reason: EndReason
    offset: int
    marker: str | None
    calls: int


@dataclass
class _Answer:
    data: bytes
    marker: str | None
    pending: bool | None  # None: AdditionalDataPending left out


class PortionReader:
    """Reads one file; iterate it for `Page`s, the last item being an `End`."""

    def __init__(
        self,
        rds: RdsApi | Any,
        instance_id: str,
        log_file_name: str,
        start: Position | Tail = Position(),
        *,
        lines: int = MAX_LINES,
        before_call: BeforeCall = no_wait,
        max_empty_pages: int = 20,
    ) -> None:
        self.api = rds if isinstance(rds, RdsApi) else RdsApi.unmetered(rds)
        self.instance_id = instance_id
        self.log_file_name = log_file_name
        self.start = start
        self.max_lines = max(1, min(lines, MAX_LINES))
        self.lines = self.max_lines
        self.before_call = before_call
        self.max_empty_pages = max_empty_pages
        self.calls = 0
        self.offset = start.offset if isinstance(start, Position) else 0
        self._kept = b""  # the last delivered bytes (up to KEEP_BYTES), ending at self.offset

    def __aiter__(self) -> AsyncIterator[Page | End]:
        return self._read()

    async def _call(self, marker: str | None, lines: int) -> _Answer | None:
        """One DownloadDBLogFilePortion; None when the file is not found."""
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": self.instance_id,
            "LogFileName": self.log_file_name,
            "NumberOfLines": lines,
        }
        if marker is not None:
            kwargs["Marker"] = marker
        await self.before_call()
        self.calls += 1
        try:
            resp = await self.api.call("DownloadDBLogFilePortion", **kwargs)
        except ApiError as exc:
            if exc.code == "DBLogFileNotFoundFault":
                return None
            where = (self.instance_id, self.log_file_name)
            if not exc.code:  # no answer at all: a transport failure
                raise ServerError(f"{'/'.join(where)}: {exc}", *where) from exc
            raise error_for(exc.code, exc.status, exc.message, *where) from exc
        data = str(resp.get("LogFileData") or "").encode()
        return _Answer(data, resp.get("Marker"), resp.get("AdditionalDataPending"))

    def _shrink(self, lines: int, cut: bytes) -> int:
        """After a truncated page: fewer lines, so that the next answer fits in 1 MiB."""
        whole = cut.count(b"\n")
        if lines <= 1 or whole == 0:
            raise LineTooLong(
                f"{self.instance_id}/{self.log_file_name}: a line at byte {self.offset} is over "
                "1 MiB; read it with the complete download",
                self.instance_id,
                self.log_file_name,
                offset=self.offset,
            )
        return max(1, min(lines // 2, whole))

    def _fresh(self, data: bytes, starts_at: int) -> bytes:
        """The part of a page that starts at `starts_at` which lies after what was delivered."""
        if starts_at > self.offset:
            raise MarkerGap(
                f"{self.instance_id}/{self.log_file_name}: a page starts at byte {starts_at}, "
                f"after the {self.offset} bytes read",
                self.instance_id,
                self.log_file_name,
                offset=self.offset,
            )
        repeat = min(self.offset - starts_at, len(data))
        first = len(self._kept) - (self.offset - starts_at)  # where the repeat starts in _kept
        if repeat and first >= 0 and self._kept[first : first + repeat] != data[:repeat]:
            raise OverlapMismatch(
                f"{self.instance_id}/{self.log_file_name}: bytes {starts_at}.."
                f"{starts_at + repeat} came back different",
                self.instance_id,
                self.log_file_name,
                offset=self.offset,
            )
        return data[repeat:]

    def _deliver(self, fresh: bytes, marker: str) -> Page:
        page = Page(fresh, self.offset, marker)
        self.offset += len(fresh)
        self._kept = (self._kept + fresh)[-KEEP_BYTES:]
        whole = fresh.count(b"\n")
        if whole:
            # As many lines as fill ~90 % of the 1 MiB cap at this page's line length: pages stay
            # big (the request budget) and are seldom cut (a cut page costs a call for nothing).
            fit = int(PAGE_TARGET * whole / len(fresh))
            self.lines = max(1, min(self.max_lines, fit))
        return page

    def _end(self, reason: EndReason, marker: str | None) -> End:
        return End(reason, self.offset, marker, self.calls)

    async def _first(self) -> tuple[str, Page | None] | End:
        """Tail mode's first page: where it starts is known only from its marker."""
        assert isinstance(self.start, Tail)
        lines = max(1, min(self.start.lines, MAX_LINES))
        while True:
            answer = await self._call(None, lines)
            if answer is None:
                return self._end(EndReason.VANISHED, None)
            if answer.data.endswith(TRUNCATED):
                lines = self._shrink(lines, answer.data[: -len(TRUNCATED)])
                continue
            after = marker_offset(answer.marker)
            if answer.marker is None or after is None:
                raise MarkerGap(
                    f"{self.instance_id}/{self.log_file_name}: tail mode answered the opaque "
                    f"marker {answer.marker!r}; its offset is unknown",
                    self.instance_id,
                    self.log_file_name,
                )
            self.offset = after - len(answer.data)
            page = self._deliver(answer.data, answer.marker) if answer.data else None
            return answer.marker, page

    async def _read(self) -> AsyncIterator[Page | End]:
        if isinstance(self.start, Tail):
            first = await self._first()
            if isinstance(first, End):
                yield first
                return
            marker, page = first
            if page is not None:
                yield page
        else:
            marker = self.start.marker or "0"
        empty = silent = 0
        while True:
            answer = await self._call(marker, self.lines)
            if answer is None:
                yield self._end(EndReason.VANISHED, None)
                return
            data = answer.data
            if data.endswith(TRUNCATED):
                self.lines = self._shrink(self.lines, data[: -len(TRUNCATED)])
                continue
            if answer.marker is None:
                raise UnexpectedAnswer(
                    f"{self.instance_id}/{self.log_file_name}: an answer without a Marker",
                    self.instance_id,
                    self.log_file_name,
                )
            claimed = marker_offset(marker)
            fresh = self._fresh(data, self.offset if claimed is None else claimed)
            if answer.marker == "0":
                if fresh:
                    yield self._deliver(fresh, "0")
                yield self._end(EndReason.SEGMENT_END, None)
                return
            if fresh:
                empty = silent = 0
                yield self._deliver(fresh, answer.marker)
                marker = answer.marker
                continue
            if data:
                # Only bytes already delivered (an overlap, or the skip to a start offset): not
                # an answer about the end, whatever it says. Follow it while it moves on.
                if answer.marker == marker:
                    empty = self._stalled(empty)
                marker = answer.marker
                continue
            if answer.pending is False:
                yield self._end(EndReason.CAUGHT_UP, marker)
                return
            # Data pending but none given (the marker may have run ahead of it), or no word at
            # all: ask the same marker again; two silent empty answers in a row mean the end.
            silent = silent + 1 if answer.pending is None else 0
            if silent >= 2:
                yield self._end(EndReason.CAUGHT_UP, marker)
                return
            empty = self._stalled(empty)

    def _stalled(self, empty: int) -> int:
        """One more answer without progress; `Stalled` past `max_empty_pages` in a row."""
        empty += 1
        if empty > self.max_empty_pages:
            raise Stalled(
                f"{self.instance_id}/{self.log_file_name}: {empty} answers in a row without "
                f"progress at byte {self.offset} with data pending",
                self.instance_id,
                self.log_file_name,
                offset=self.offset,
            )
        return empty


# `async for item in read_portions(rds, "db-1", "slowquery/mysql-slowquery.log",
# Position(offset, marker)):` reads as what it does at the call site.
read_portions = PortionReader
