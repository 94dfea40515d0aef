"""API keys (admins) and the audit log (readers)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, cursor_int, next_of, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.access import (
    AuditEntryPublic,
    AuditPublic,
    KeyCreate,
    KeyCreated,
    KeyPublic,
    KeysPublic,
)
from stockpool.api.security import Admin, KeyCache, Reader, services_of
from stockpool.services import access, audit
from stockpool.services.ports import AuditFilter

router = APIRouter(
    tags=["access"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
KeyId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/keys", summary="List API keys")
def list_keys(
    request: Request, _key: Admin, cursor: Cursor = None, limit: Limit = 100
) -> KeysPublic:
    """Every key, revoked ones too, by id (never the keys themselves)."""
    page, following = paginate(
        access.list_keys(services_of(request)), lambda k: k.id, cursor, limit
    )
    return KeysPublic(data=[KeyPublic.of(k) for k in page], next_cursor=following)


@router.post("/keys", status_code=201, summary="Create an API key", responses=documented(413))
def create_key(request: Request, _key: Admin, body: KeyCreate) -> KeyCreated:
    """Create a key; the answer holds the key itself, shown this once."""
    created = access.create_key(services_of(request), body.role, name=body.name)
    return KeyCreated(**KeyPublic.of(created.key).model_dump(), key=created.secret)


@router.delete("/keys/{key_id}", summary="Revoke an API key", responses=documented(404))
def revoke_key(request: Request, _key: Admin, key_id: KeyId) -> KeyPublic:
    """Revoke a key: requests with it are refused from now on."""
    revoked = access.revoke_key(services_of(request), key_id)
    cache: KeyCache = request.app.state.key_cache
    cache.forget(revoked.id)
    return KeyPublic.of(revoked)


@router.get("/audit", summary="The audit log")
def audit_log(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    key_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    method: Annotated[str | None, Query(pattern="^(POST|PUT|PATCH|DELETE)$")] = None,
    resource: Annotated[str | None, Query(max_length=500)] = None,
    path: Annotated[str | None, Query(max_length=2000, description="Path prefix.")] = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    since: Annotated[datetime | None, Query(description="At or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, Query(description="Before (ISO 8601).")] = None,
) -> AuditPublic:
    """Every write through the API, newest first, with filters."""
    wanted = AuditFilter(
        key_id=key_id,
        method=method,
        resource=resource,
        path_prefix=path,
        status=status,
        since=_aware(since),
        until=_aware(until),
    )
    page = audit.list_entries(
        services_of(request), wanted, before_id=cursor_int(cursor), limit=limit
    )
    following = None if page.next_cursor is None else int(page.next_cursor)
    return AuditPublic(
        data=[AuditEntryPublic.of(e) for e in page.rows], next_cursor=next_of(following)
    )


def _aware(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)
