"""The one multi-line entry a parser holds until the next entry starts."""

from __future__ import annotations

from processor.parsers.event import Event


class PendingEntry:
    """An entry whose continuation lines are still arriving.

    Continuation lines are joined to the `message_key` field with newlines, up to `max_bytes`
    of text: past that the range still grows (no byte is lost from the range) but the text stops
    growing and the event is flagged `truncated`, so memory stays bounded.
    """

    __slots__ = ("ascii_only", "event", "key", "max_bytes", "parts", "size", "truncated")

    def __init__(self, max_bytes: int, key: str = "message") -> None:
        self.max_bytes = max_bytes
        self.key = key
        self.event: Event | None = None
        self.ascii_only = True
        self.parts: list[str] | None = None
        self.size = 0
        self.truncated = False

    def begin(self, event: Event, ascii_only: bool, truncated: bool, size: int = 0) -> None:
        self.event = event
        self.ascii_only = ascii_only
        self.parts = None
        self.size = size
        self.truncated = truncated

    def append(self, line: str, end: int, ascii_only: bool, truncated: bool) -> None:
        event = self.event
        assert event is not None
        event.end = end
        if not ascii_only:
            self.ascii_only = False
        if truncated:
            self.truncated = True
        size = self.size + len(line) + 1
        if size > self.max_bytes:
            self.truncated = True
            room = self.max_bytes - self.size
            if room <= 0:
                return
            line = line[:room]
            size = self.max_bytes
        self.size = size
        if self.parts is None:
            self.parts = [line]
        else:
            self.parts.append(line)

    def take(self) -> Event:
        """The finished event (continuations joined); the slot is empty afterwards."""
        event = self.event
        assert event is not None
        self.event = None
        if self.parts is not None:
            fields = event.fields
            base = fields.get(self.key) or ""
            fields[self.key] = "\n".join([base, *self.parts]).rstrip("\n")
            self.parts = None
        if self.truncated:
            event.fields["truncated"] = True
        return event
