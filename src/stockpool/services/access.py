"""Use cases of API access: create, list, revoke and check keys; idempotent retries.

A key is `sp_` and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored;
the key itself is shown once, when it is created. A request that carries an
Idempotency-Key claims it (per API key) before it runs; its answer is kept, and a retry
with the same key and the same request gets that answer again instead of running twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from stockpool.domain.access import ApiKey, StoredResponse, require_key_name, require_role
from stockpool.domain.errors import ConcurrentChange, InvalidInput, StockpoolError
from stockpool.services.context import Services

KEY_PREFIX = "sp_"
IDEMPOTENCY_KEY_MAX = 255
# A request that claimed a key and then vanished (its process died) frees it after this.
ABANDONED_AFTER = timedelta(minutes=2)


class IdempotencyKeyReused(StockpoolError):
    """An Idempotency-Key sent again with a different request."""


class RequestInProgress(ConcurrentChange):
    """An Idempotency-Key whose first request has not been answered yet."""


@dataclass(frozen=True)
class CreatedKey:
    """A new key: its record, and the key itself (shown once, never stored)."""

    key: ApiKey
    secret: str


def hash_key(secret: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(app: Services, role: str, *, name: str | None = None) -> CreatedKey:
    """Make a key with `role`; the key itself is in the result and nowhere else."""
    chosen = require_role(role)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    label = require_key_name(name or f"{chosen.value} key")
    with app.uow() as uow:
        key = uow.access.add_key(
            label, chosen, prefix=secret[:10], key_hash=hash_key(secret), at=app.clock()
        )
        uow.commit()
    return CreatedKey(key, secret)


def list_keys(app: Services) -> list[ApiKey]:
    """Every key, revoked ones too."""
    with app.uow() as uow:
        return uow.access.list_keys()


def revoke_key(app: Services, key_id: int) -> ApiKey:
    """Revoke a key: requests with it are refused from now on."""
    with app.uow() as uow:
        key = uow.access.revoke_key(key_id, at=app.clock())
        uow.commit()
    return key


def authenticate(app: Services, secret: str) -> ApiKey | None:
    """The working key `secret` is, or None."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    digest = hash_key(secret)
    with app.uow() as uow:
        found = uow.access.key_by_hash(digest)
    if found is None:
        return None
    key, stored = found
    if not hmac.compare_digest(stored, digest) or key.revoked_at is not None:
        return None
    return key


def require_idempotency_key(text: str) -> str:
    """An Idempotency-Key: 1 to 255 visible ASCII characters."""
    if not 1 <= len(text) <= IDEMPOTENCY_KEY_MAX or not all(33 <= ord(c) < 127 for c in text):
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters"
        )
    return text


def request_hash(method: str, path: str, body: bytes) -> str:
    """What identifies a request for idempotency: method, path and query, body."""
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def claim(
    app: Services, key: ApiKey, idempotency_key: str, *, method: str, path: str, body: bytes
) -> StoredResponse | None:
    """Claim an Idempotency-Key for a request: None to run it, or the answer to repeat.

    Raises:
        IdempotencyKeyReused: the key was used for a different request.
        RequestInProgress: the first request with the key is still running.
    """
    token = require_idempotency_key(idempotency_key)
    now = app.clock()
    with app.uow() as uow:
        outcome, stored = uow.access.claim_idempotency(
            key.id,
            token,
            method=method,
            path=path,
            body_hash=request_hash(method, path, body),
            at=now,
            stale_before=now - ABANDONED_AFTER,
        )
        uow.commit()
    if outcome == "mismatch":
        raise IdempotencyKeyReused(
            f"the Idempotency-Key {token!r} was used for a different request; use a new key"
        )
    if outcome == "in_progress":
        raise RequestInProgress(
            f"a request with the Idempotency-Key {token!r} is still running; retry later"
        )
    return stored


def release(app: Services, key: ApiKey, idempotency_key: str) -> None:
    """Free a claimed Idempotency-Key whose request failed unexpectedly."""
    with app.uow() as uow:
        uow.access.release_idempotency(key.id, idempotency_key)
        uow.commit()
