"""Checking AWS Signature Version 4 on requests to the emulator: the `Authorization` header form
(botocore's `SigV4Auth`) and the presigned query-string form (`X-Amz-Signature`, Go's Presign).

The date is not checked against the clock (the emulated clock may run far from real time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, unquote

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*SignedHeaders=(?P<signed>[^,\s]+),"
    r"\s*Signature=(?P<sig>[0-9a-f]+)"
)
UNSIGNED = "UNSIGNED-PAYLOAD"


@dataclass(frozen=True)
class Caller:
    access_key: str
    region: str


class SignatureError(Exception):
    """The request is not signed, or not signed with a known key; the message says why."""


def caller(headers: Mapping[str, str]) -> Caller:
    """Who is calling, from the credential scope, without checking the signature."""
    m = _AUTH.match(headers.get("authorization", ""))
    if m is None:
        return Caller("anonymous", "us-east-1")
    parts = m.group("cred").split("/")
    return Caller(parts[0], parts[2] if len(parts) == 5 else "us-east-1")


def _key(secret: str, date: str, region: str, service: str) -> bytes:
    k = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return k


def _canonical_query(pairs: list[tuple[str, str]]) -> str:
    enc = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~"))
        for k, v in pairs
        if unquote(k) != "X-Amz-Signature"
    )
    return "&".join(f"{k}={v}" for k, v in enc)


def _trim(value: str) -> str:
    return " ".join(value.split())


def verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
) -> Caller:
    """Return the caller if the signature is right for a known key, else raise SignatureError."""
    headers = {k.lower(): v for k, v in headers.items()}
    pairs = [(k, v) for k, _, v in (p.partition("=") for p in raw_query.split("&") if p)]
    query = {unquote(k): unquote(v) for k, v in pairs}
    m = _AUTH.match(headers.get("authorization", ""))
    if m is not None:
        cred, signed, given = m.group("cred"), m.group("signed"), m.group("sig")
        amz_date = headers.get("x-amz-date", "")
        declared = headers.get("x-amz-content-sha256")
        payloads = [declared] if declared else [hashlib.sha256(body).hexdigest()]
    elif "X-Amz-Signature" in query:
        cred = query.get("X-Amz-Credential", "")
        signed = query.get("X-Amz-SignedHeaders", "")
        given = query["X-Amz-Signature"]
        amz_date = query.get("X-Amz-Date", "")
        # botocore presigns with the body's hash, Go's Presign often with UNSIGNED-PAYLOAD.
        payloads = [hashlib.sha256(body).hexdigest(), UNSIGNED]
    else:
        raise SignatureError("the request is not signed")
    scope = cred.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not amz_date:
        raise SignatureError(f"malformed credential scope {cred!r}")
    access_key, date, region, service, _ = scope
    secret = secrets.get(access_key)
    if secret is None:
        raise SignatureError(f"unknown access key {access_key!r}")
    names = signed.split(";")
    canon_headers = "".join(f"{n}:{_trim(headers.get(n, ''))}\n" for n in names)
    canon_query = _canonical_query(pairs)
    key = _key(secret, date, region, service)
    # botocore encodes the path it was given once more; other signers use the decoded path.
    paths = dict.fromkeys((quote(raw_path, safe="/~"), quote(unquote(raw_path), safe="/~")))
    for path, payload in ((p, h) for p in paths for h in payloads):
        creq = "\n".join((method, path, canon_query, canon_headers, signed, payload))
        to_sign = "\n".join(
            (
                "AWS4-HMAC-SHA256",
                amz_date,
                "/".join(scope[1:]),
                hashlib.sha256(creq.encode()).hexdigest(),
            )
        )
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, given):
            return Caller(access_key, region)
    raise SignatureError("the signature does not match")
