"""What every use case is given: where to work, what time it is, and who asks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stockpool.services.allocation_plan import PlanCache
from stockpool.services.group_commit import GroupCommit
from stockpool.services.ports import Clock, UnitOfWorkFactory

if TYPE_CHECKING:
    from stockpool.domain.access import AuditEntry
    from stockpool.services.audit import Completion
    from stockpool.services.reservations import Outcome, ReserveRequest


@dataclass(frozen=True)
class Services:
    """The dependencies of the use cases, built once by `stockpool.bootstrap`."""

    uow: UnitOfWorkFactory
    clock: Clock
    plans: PlanCache = field(default_factory=PlanCache)
    # Check-and-reserve calls of this process share transactions (`services.reservations`).
    reservations: GroupCommit[ReserveRequest, Outcome] = field(default_factory=GroupCommit)
    # So do the audit entries of API writes (`services.audit`).
    audit_log: GroupCommit[tuple[AuditEntry, Completion | None], None] = field(
        default_factory=GroupCommit
    )
