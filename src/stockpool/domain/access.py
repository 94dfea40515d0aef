"""Who may do what through the API: keys, roles, permissions, and the audit of writes.

An API key belongs to one role. A role grants permissions; every API operation needs one
permission. The grants are fixed here so that a reader can check them in one place:

| role | may |
|---|---|
| `viewer` | read |
| `operator` | read, and operate stock, orders, purchase orders, transfers and counts |
| `admin` | everything, including keys, rules, channels and the catalog |
| `integration` | deliver channel webhooks and ingest orders, nothing else |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from stockpool.domain.errors import InvalidInput

KEY_NAME_MAX = 200


class Role(StrEnum):
    """The role of an API key."""

    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    INTEGRATION = "integration"


class Permission(StrEnum):
    """What an API operation needs."""

    READ = "read"
    OPERATE = "operate"
    ADMINISTER = "administer"
    INGEST_ORDERS = "ingest_orders"
    DELIVER_WEBHOOKS = "deliver_webhooks"


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.OPERATOR: frozenset({Permission.READ, Permission.OPERATE, Permission.INGEST_ORDERS}),
    Role.VIEWER: frozenset({Permission.READ}),
    Role.INTEGRATION: frozenset({Permission.INGEST_ORDERS, Permission.DELIVER_WEBHOOKS}),
}


def allows(role: Role, permission: Permission) -> bool:
    """Whether `role` grants `permission`."""
    return permission in GRANTS[role]


def require_role(text: str) -> Role:
    """Parse a role name, or say which exist."""
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {names}, got {text!r}") from None


def require_key_name(text: str) -> str:
    """A key's name: 1 to 200 printable characters."""
    name = text.strip()
    if not name or len(name) > KEY_NAME_MAX or not name.isprintable():
        raise InvalidInput(f"a key name needs 1 to {KEY_NAME_MAX} printable characters")
    return name


@dataclass(frozen=True)
class ApiKey:
    """An API key as stored: never the key itself, only its hash.

    Attributes:
        id: the key's number, shown in lists and in the audit log.
        name: what it is for ("shopify relay", "warehouse tablet").
        role: what it may do.
        prefix: the first characters of the key, so people can tell keys apart.
        created_at: when it was made.
        revoked_at: when it was revoked, None while it works.
    """

    id: int
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def actor(self) -> str:
        """How the key is named on ledger records and in the audit log."""
        return f"key:{self.id}:{self.name}"


@dataclass(frozen=True)
class AuditEntry:
    """One write through the API: who, what, with which result.

    Attributes:
        at: when the write was answered.
        key_id: the key used (None when the caller could not be identified).
        actor: the key's name.
        method: the HTTP method.
        path: the path as requested.
        resource: what was written ("sku=TEE-M", "id=4").
        status: the HTTP status answered.
        request_id: the X-Request-ID of the request.
        before: the resource before the write, where the use case tells it.
        after: what the write answered (the resource after it, or the problem).
        id: its number in the log (0 before it is stored).
    """

    at: datetime
    key_id: int | None
    actor: str
    method: str
    path: str
    resource: str
    status: int
    request_id: str
    before: Any = None
    after: Any = None
    id: int = 0


@dataclass(frozen=True)
class StoredResponse:
    """The answer given to a request made with an Idempotency-Key, kept for its retries."""

    status: int
    media_type: str
    body: bytes
