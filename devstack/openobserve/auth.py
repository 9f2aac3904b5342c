"""Basic authentication as OpenObserve does it: `email:password` everywhere, `email:passcode`
(the per-user ingestion token) only on ingestion routes; a failure is 401 with a plain-text body.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

INGESTION_SUFFIXES = ("/_json", "/_multi", "/_bulk", "/v1/logs")


@dataclass(frozen=True)
class Credentials:
    user: str
    password: str
    passcode: str


def load_passcode(data_dir: Path, given: str | None) -> str:
    """The passcode given on the command line, else the one kept in the data dir (made once)."""
    if given:
        return given
    path = data_dir / "passcode"
    if path.exists():
        return path.read_text().strip()
    passcode = secrets.token_urlsafe(15)
    path.write_text(passcode + "\n")
    return passcode


def is_ingestion(path: str) -> bool:
    return path.endswith(INGESTION_SUFFIXES)


def authorised(header: str | None, creds: Credentials, ingestion: bool) -> bool:
    """True when `Authorization: Basic ...` names the user with its password (or passcode)."""
    if not header or header[:6].lower() != "basic ":
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, secret = decoded.partition(":")
    if not sep or not secret or user != creds.user:
        return False
    if hmac.compare_digest(secret.encode(), creds.password.encode()):
        return True
    return ingestion and hmac.compare_digest(secret.encode(), creds.passcode.encode())


def unauthorized() -> web.Response:
    return web.Response(
        status=401,
        text="Unauthorized Access",
        headers={"WWW-Authenticate": 'Bearer realm="openobserve"'},
    )
