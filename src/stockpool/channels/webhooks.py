"""Webhook signatures: base64 HMAC-SHA256 of the raw body, checked in constant time.

During a secret rotation a channel may still sign with the previous secret for a while, so
a signature is accepted when any of the configured secrets produced it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping


def sign_base64(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 of `body` under `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def verify_base64(body: bytes, signature: str | None, secrets: Iterable[str]) -> bool:
    """Whether `signature` is the base64 HMAC-SHA256 of `body` under one of `secrets`."""
    if not signature:
        return False
    given = signature.strip().encode()
    found = False
    for secret in secrets:
        if secret:
            found |= hmac.compare_digest(sign_base64(body, secret).encode(), given)
    return found


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None
