"""Reading RDS log files: the complete download for whole files (`complete.py`), the portion
reader for the live ones (`portions.py`), and why either may stop (`errors.py`)."""

from processor.download.complete import complete_file_url, stream_complete_file
from processor.download.errors import DownloadError
from processor.download.hooks import BeforeCall, no_wait
from processor.download.portions import (
    End,
    EndReason,
    Page,
    PortionReader,
    Position,
    Tail,
    read_portions,
)

__all__ = [
    "BeforeCall",
    "DownloadError",
    "End",
    "EndReason",
    "Page",
    "PortionReader",
    "Position",
    "Tail",
    "complete_file_url",
    "no_wait",
    "read_portions",
    "stream_complete_file",
]
