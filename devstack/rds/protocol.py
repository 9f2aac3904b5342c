"""The AWS query protocol as botocore speaks it: form parameters in, namespaced XML out.

Responses of the Describe* operations are serialised from botocore's own RDS model, so element
names (`DescribeDBLogFilesDetails`, `DBClusterMember`, `Tag`, `member`...) are exactly the ones its
parser looks for. The hot DownloadDBLogFilePortion response is written by hand on bytes.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

import botocore.session

from devstack.rds.errors import ApiError, invalid_parameter, missing_parameter

NAMESPACE = "http://rds.amazonaws.com/doc/2014-10-31/"
API_VERSION = "2014-10-31"


@functools.cache
def service_model() -> Any:
    return botocore.session.get_session().get_service_model("rds")


def _scalar(shape: Any, value: Any) -> str:
    kind = shape.type_name
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "timestamp":
        if isinstance(value, int | float):
            value = datetime.fromtimestamp(value, UTC)
        return str(value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z")
    return escape(str(value))


def _serialize(shape: Any, value: Any, out: list[str]) -> None:
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                tag = member.serialization.get("name", name)
                out.append(f"<{tag}>")
                _serialize(member, value[name], out)
                out.append(f"</{tag}>")
    elif kind == "list":
        tag = shape.member.serialization.get("name", "member")
        for item in value:
            out.append(f"<{tag}>")
            _serialize(shape.member, item, out)
            out.append(f"</{tag}>")
    else:
        out.append(_scalar(shape, value))


def render(operation: str, result: Mapping[str, Any], request_id: str) -> bytes:
    """`<{Op}Response><{Op}Result>...</{Op}Result><ResponseMetadata>` for `result`."""
    shape = service_model().operation_model(operation).output_shape
    out = [f'<{operation}Response xmlns="{NAMESPACE}"><{operation}Result>']
    _serialize(shape, result, out)
    out.append(
        f"</{operation}Result><ResponseMetadata><RequestId>{request_id}</RequestId>"
        f"</ResponseMetadata></{operation}Response>"
    )
    return "".join(out).encode()


def render_error(err: ApiError, request_id: str) -> bytes:
    kind = "Sender" if err.sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{NAMESPACE}"><Error><Type>{kind}</Type>'
        f"<Code>{escape(err.code)}</Code><Message>{escape(err.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def escape_bytes(data: bytes) -> bytes:
    """XML text from raw log bytes; `\\r` as a character reference, or parsers turn it into `\\n`."""
    if b"&" in data:
        data = data.replace(b"&", b"&amp;")
    if b"<" in data:
        data = data.replace(b"<", b"&lt;")
    if b">" in data:
        data = data.replace(b">", b"&gt;")
    if b"\r" in data:
        data = data.replace(b"\r", b"&#13;")
    return data


def render_portion(data: bytes | None, marker: str, pending: bool | None, request_id: str) -> bytes:
    """DownloadDBLogFilePortion's response; `data=None` leaves LogFileData out entirely, and
    `pending=None` AdditionalDataPending."""
    body = b"" if data is None else b"<LogFileData>" + escape_bytes(data) + b"</LogFileData>"
    flag = (
        b""
        if pending is None
        else b"<AdditionalDataPending>"
        + (b"true" if pending else b"false")
        + b"</AdditionalDataPending>"
    )
    return b"".join(
        (
            b'<DownloadDBLogFilePortionResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/">'
            b"<DownloadDBLogFilePortionResult>",
            body,
            b"<Marker>",
            escape(marker).encode(),
            b"</Marker>",
            flag,
            b"</DownloadDBLogFilePortionResult><ResponseMetadata><RequestId>",
            request_id.encode(),
            b"</RequestId></ResponseMetadata></DownloadDBLogFilePortionResponse>",
        )
    )


class Params:
    """The flat form parameters of one request, with typed, AWS-style validated getters."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self.raw = raw

    def text(self, name: str, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise missing_parameter(name)
            return None
        return value

    def required(self, name: str) -> str:
        value = self.text(name, required=True)
        assert value is not None
        return value

    def integer(self, name: str, lo: int | None = None, hi: int | None = None) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value = int(text)
        except ValueError:
            raise invalid_parameter(f"Invalid value {text!r} for {name}: not an integer") from None
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
            raise invalid_parameter(f"Invalid value {value} for {name}. Must be {bounds}.")
        return value

    def filters(self) -> dict[str, list[str]]:
        """`Filters.Filter.N.Name` / `Filters.Filter.N.Values.Value.M` as {name: values}."""
        out: dict[str, list[str]] = {}
        n = 1
        while f"Filters.Filter.{n}.Name" in self.raw:
            name = self.raw[f"Filters.Filter.{n}.Name"]
            values = []
            m = 1
            while f"Filters.Filter.{n}.Values.Value.{m}" in self.raw:
                values.append(self.raw[f"Filters.Filter.{n}.Values.Value.{m}"])
                m += 1
            if not values:
                raise invalid_parameter(f"The filter {name} needs at least one value.")
            out.setdefault(name, []).extend(values)
            n += 1
        return out
