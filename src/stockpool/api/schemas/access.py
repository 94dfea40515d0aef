"""API keys and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from stockpool.api.schemas.common import Input, Output
from stockpool.domain.access import ApiKey, AuditEntry

RoleName = Literal["admin", "operator", "viewer", "integration"]


class KeyCreate(Input):
    """A new API key."""

    role: RoleName
    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class KeyPublic(Output):
    """An API key (never the key itself)."""

    id: int
    name: str
    role: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyPublic:
        """From the domain record."""
        return cls(
            id=key.id,
            name=key.name,
            role=key.role.value,
            prefix=key.prefix,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(KeyPublic):
    """A new API key, with the key itself: shown this once, stored nowhere."""

    key: str


class KeysPublic(Output):
    """A page of keys by id."""

    data: list[KeyPublic]
    next_cursor: str | None


class AuditEntryPublic(Output):
    """One write through the API."""

    id: int
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

    @classmethod
    def of(cls, e: AuditEntry) -> AuditEntryPublic:
        """From the domain record."""
        return cls(**e.__dict__)


class AuditPublic(Output):
    """A page of the audit log, newest first."""

    data: list[AuditEntryPublic]
    next_cursor: str | None
