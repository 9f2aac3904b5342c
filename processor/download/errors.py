"""Why a download of an RDS log file did not finish, as one hierarchy (httpx `_exceptions.py`
style). `retriable` says whether the same call may succeed later (the caller backs off and
retries); the others say what to do instead in their docstring.

* DownloadError
  * RdsError — an error answer of the RDS API (`code`, `status`, `body`)
    * Throttled — `Throttling`/`ThrottlingException` after botocore's own retries (retriable)
    * InstanceNotReady — `DBInstanceNotReady`: stopped, rebooting, paused (retriable)
    * ServerError — HTTP 5xx, or no answer at all (retriable)
    * InstanceNotFound — `DBInstanceNotFound`: the instance is gone or renamed
    * FileVanished — `DBLogFileNotFoundFault` on the complete download (the portion reader
      reports it as an `End` instead: a vanished file is an outcome, not a crash)
    * BinaryData — the portion API's "binary data" `InvalidParameterValue`: read the range with
      the complete download
    * CompleteDownloadRefused — the REST endpoint said 403, 404 or `NoSuchVersion`: read with
      portions instead
    * UnexpectedAnswer — any other error code
  * PortionError — the portion reader cannot go on from `offset`
    * MarkerGap — a page starts after the bytes read so far (following it would lose bytes)
    * OverlapMismatch — bytes served twice differ from the first time
    * LineTooLong — one line is over 1 MiB, so no portion page holds it whole: read the range
      with the complete download
    * Stalled — pages kept coming back empty while data was pending (retriable)
"""

from __future__ import annotations


class DownloadError(Exception):
    """Base class: a download of `log_file_name` on `instance_id` stopped."""

    retriable = False

    def __init__(self, message: str, instance_id: str = "", log_file_name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.instance_id = instance_id
        self.log_file_name = log_file_name


class RdsError(DownloadError):
    """An error answer of the RDS API: its `code`, HTTP `status` and (REST) `body`."""

    def __init__(
        self,
        message: str,
        instance_id: str = "",
        log_file_name: str = "",
        *,
        code: str = "",
        status: int = 0,
        body: str = "",
    ) -> None:
        super().__init__(message, instance_id, log_file_name)
        self.code = code
        self.status = status
        self.body = body


class Throttled(RdsError):
    """The account's request bucket is empty; botocore's retries did not outlast it."""

    retriable = True


class InstanceNotReady(RdsError):
    """`DBInstanceNotReady`: stopped, rebooting, modifying or paused; its logs come back later."""

    retriable = True


class ServerError(RdsError):
    """HTTP 5xx, or the connection failed before an answer."""

    retriable = True


class InstanceNotFound(RdsError):
    """`DBInstanceNotFound`: the instance was deleted or renamed; retrying the name is useless."""


class FileVanished(RdsError):
    """`DBLogFileNotFoundFault`: the file is no longer listed (rotated away or expired)."""


class BinaryData(RdsError):
    """The portion API refuses the file ("contains binary data and should be downloaded instead
    of viewed", aws-cli #2197): read this range with the complete download."""


class CompleteDownloadRefused(RdsError):
    """`downloadCompleteLogFile` refused (403 without `rds:DownloadCompleteDBLogFile`, 404, or a
    retired path's `NoSuchVersion`): read the file with DownloadDBLogFilePortion instead."""


class UnexpectedAnswer(RdsError):
    """An error code this client does not know; logged and reported with its body."""


class PortionError(DownloadError):
    """The portion reader cannot go on from byte `offset` (everything before it was delivered)."""

    def __init__(
        self, message: str, instance_id: str = "", log_file_name: str = "", *, offset: int = 0
    ) -> None:
        super().__init__(message, instance_id, log_file_name)
        self.offset = offset


class MarkerGap(PortionError):
    """A page starts after the bytes read so far: following it would lose bytes."""


class OverlapMismatch(PortionError):
    """A page repeats bytes already read, and they differ from the first time."""


class LineTooLong(PortionError):
    """A single line over 1 MiB: even one line per page comes back truncated. The portion API
    cannot deliver it (rds-pgbadger #93 loops forever here): use the complete download."""


class Stalled(PortionError):
    """Pages kept coming back empty while the answers said data was pending."""

    retriable = True


THROTTLING_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded"})
_BY_CODE: dict[str, type[RdsError]] = {
    "DBInstanceNotReady": InstanceNotReady,
    "DBInstanceNotFound": InstanceNotFound,
    "DBInstanceNotFoundFault": InstanceNotFound,
    "DBLogFileNotFoundFault": FileVanished,
}


def error_for(
    code: str, status: int, message: str, instance_id: str, log_file_name: str, body: str = ""
) -> RdsError:
    """The error class for an RDS error answer (query API or REST endpoint)."""
    cls: type[RdsError]
    if code in THROTTLING_CODES or status == 429:
        cls = Throttled
    elif code in _BY_CODE:
        cls = _BY_CODE[code]
    elif code == "InvalidParameterValue" and "binary data" in message:
        cls = BinaryData
    elif status >= 500:
        cls = ServerError
    else:
        cls = UnexpectedAnswer
    text = f"{instance_id}/{log_file_name}: {code or 'HTTP ' + str(status)}: {message}"
    return cls(text, instance_id, log_file_name, code=code, status=status, body=body)
