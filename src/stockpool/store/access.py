"""API keys, idempotency records and the audit log in the database."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from stockpool.domain.access import ApiKey, AuditEntry, Role, StoredResponse
from stockpool.domain.errors import NotFound
from stockpool.services.ports import AuditFilter, Page
from stockpool.store.api_tables import api_keys, audit_log, idempotency_keys
from stockpool.store.driver import BulkInsert, bind_datetime

# Every write through the API adds one: straight to the driver, many at a time.
_ADD_AUDIT = BulkInsert(
    "audit_log",
    [
        ("at", "timestamptz"),
        ("key_id", "bigint"),
        ("actor", "text"),
        ("method", "text"),
        ("path", "text"),
        ("resource", "text"),
        ("status", "integer"),
        ("request_id", "text"),
        ("before", "json"),
        ("after", "json"),
    ],
)


def _json_text(value: Any) -> str | None:
    return None if value is None else json.dumps(value)


def _key(row: Row[Any]) -> ApiKey:
    return ApiKey(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        prefix=row.prefix,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


def _entry(row: Row[Any]) -> AuditEntry:
    return AuditEntry(
        at=row.at,
        key_id=row.key_id,
        actor=row.actor,
        method=row.method,
        path=row.path,
        resource=row.resource,
        status=row.status,
        request_id=row.request_id,
        before=row.before,
        after=row.after,
        id=row.id,
    )


class SqlAccess:
    """Keys, idempotency and audit on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_key(self, name: str, role: Role, *, prefix: str, key_hash: str, at: datetime) -> ApiKey:
        """Store a new key's hash."""
        key_id = self._c.execute(
            insert(api_keys)
            .values(name=name, role=role.value, prefix=prefix, key_hash=key_hash, created_at=at)
            .returning(api_keys.c.id)
        ).scalar_one()
        return ApiKey(key_id, name, role, prefix, at)

    def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None:
        """The key with this hash and the stored hash, or None."""
        row = self._c.execute(select(api_keys).where(api_keys.c.key_hash == key_hash)).first()
        return None if row is None else (_key(row), row.key_hash)

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones too, by id."""
        return [_key(r) for r in self._c.execute(select(api_keys).order_by(api_keys.c.id))]

    def revoke_key(self, key_id: int, *, at: datetime) -> ApiKey:
        """Revoke a key (revoking twice keeps the first time)."""
        self._c.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        row = self._c.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        if row is None:
            raise NotFound(f"unknown API key {key_id}")
        return _key(row)

    def claim_idempotency(
        self,
        key_id: int,
        key: str,
        *,
        method: str,
        path: str,
        body_hash: str,
        at: datetime,
        stale_before: datetime,
    ) -> tuple[str, StoredResponse | None]:
        """Claim an idempotency key for a request.

        Returns ("started", None) when this request is the first (or the earlier one was
        abandoned), ("replay", response) when it was answered already, ("mismatch", None)
        when the key was used for another request, ("in_progress", None) while the first
        request with it is still running.
        """
        where = (idempotency_keys.c.key_id == key_id) & (idempotency_keys.c.idempotency_key == key)
        row = self._c.execute(select(idempotency_keys).where(where)).first()
        if row is None:
            try:
                with self._c.begin_nested():
                    self._c.execute(
                        insert(idempotency_keys).values(
                            key_id=key_id,
                            idempotency_key=key,
                            method=method,
                            path=path,
                            body_hash=body_hash,
                            created_at=at,
                        )
                    )
            except IntegrityError:
                return "in_progress", None
            return "started", None
        if (row.method, row.path, row.body_hash) != (method, path, body_hash):
            return "mismatch", None
        if row.status is not None:
            return "replay", StoredResponse(row.status, row.media_type, row.response_body)
        if row.created_at < stale_before:
            taken = self._c.execute(
                update(idempotency_keys)
                .where(where, idempotency_keys.c.created_at == row.created_at)
                .values(created_at=at)
            )
            if taken.rowcount == 1:
                return "started", None
        return "in_progress", None

    def finish_idempotency(self, key_id: int, key: str, response: StoredResponse) -> None:
        """Keep the answer of a claimed key."""
        self._c.execute(
            update(idempotency_keys)
            .where(idempotency_keys.c.key_id == key_id, idempotency_keys.c.idempotency_key == key)
            .values(
                status=response.status,
                media_type=response.media_type,
                response_body=response.body,
            )
        )

    def release_idempotency(self, key_id: int, key: str) -> None:
        """Forget a claimed key whose request failed, so that a retry runs again."""
        self._c.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.key_id == key_id,
                idempotency_keys.c.idempotency_key == key,
                idempotency_keys.c.status.is_(None),
            )
        )

    def record_audits(self, entries: Sequence[AuditEntry]) -> None:
        """Append audit entries, in order."""
        rows = [
            (
                bind_datetime(self._c, e.at),
                e.key_id,
                e.actor,
                e.method,
                e.path,
                e.resource,
                e.status,
                e.request_id,
                _json_text(e.before),
                _json_text(e.after),
            )
            for e in entries
        ]
        _ADD_AUDIT.insert(self._c, rows)

    def audit_page(
        self, wanted: AuditFilter, *, before_id: int | None, limit: int
    ) -> Page[AuditEntry]:
        """Audit entries, newest first, one page at a time (`before_id`: the last id seen)."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
        column = audit_log.c
        equal = {
            column.key_id: wanted.key_id,
            column.method: wanted.method,
            column.resource: wanted.resource,
            column.status: wanted.status,
        }
        for field, value in equal.items():
            if value is not None:
                query = query.where(field == value)
        if wanted.since is not None:
            query = query.where(column.at >= wanted.since)
        if wanted.until is not None:
            query = query.where(column.at < wanted.until)
        if before_id is not None:
            query = query.where(column.id < before_id)
        if wanted.path_prefix is not None:
            query = query.where(audit_log.c.path.startswith(wanted.path_prefix, autoescape=True))
        rows = [_entry(r) for r in self._c.execute(query)]
        page = rows[:limit]
        return Page(page, str(page[-1].id) if len(rows) > limit else None)
