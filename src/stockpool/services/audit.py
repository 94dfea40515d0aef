"""Use cases of the audit log: record a write through the API, and list the log.

The entry of a write and, when the request carried an Idempotency-Key, the answer kept for
its retries are stored in one transaction: the write's own, where its use case takes an
`AuditHook` (check-and-reserve does), or one of their own right after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from stockpool.domain.access import AuditEntry, StoredResponse
from stockpool.domain.errors import InvalidInput
from stockpool.services.context import Services
from stockpool.services.ports import AuditFilter, Page, UnitOfWork


@dataclass(frozen=True)
class Completion:
    """The answer to keep for an Idempotency-Key."""

    key_id: int
    idempotency_key: str
    response: StoredResponse


AuditRecord = tuple[AuditEntry, Completion | None]
# Called inside a use case's transaction with the outcome it decided (a result, or the
# error refusing the request): the audit entry of that outcome, and the answer to keep.
AuditHook = Callable[[object], AuditRecord]


def write_records(uow: UnitOfWork, records: Iterable[AuditRecord]) -> None:
    """Append audit entries and keep idempotent answers, in `uow`."""
    records = list(records)
    uow.access.record_audits([entry for entry, _ in records])
    for _, completes in records:
        if completes is not None:
            uow.access.finish_idempotency(
                completes.key_id, completes.idempotency_key, completes.response
            )


def record(app: Services, entry: AuditEntry, *, completes: Completion | None = None) -> None:
    """Append an audit entry (and keep an idempotent answer) in one transaction.

    Concurrent calls share transactions (`services.group_commit`): under load the log
    costs one commit per batch of writes, not one per write.
    """
    app.audit_log.submit((entry, completes), partial(_record_many, app))


def _record_many(
    app: Services, batch: Sequence[tuple[AuditEntry, Completion | None]]
) -> list[None]:
    with app.uow() as uow:
        write_records(uow, batch)
        uow.commit()
    return [None] * len(batch)


def list_entries(
    app: Services, wanted: AuditFilter, *, before_id: int | None = None, limit: int = 100
) -> Page[AuditEntry]:
    """Audit entries, newest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    with app.uow() as uow:
        return uow.access.audit_page(wanted, before_id=before_id, limit=limit)
