"""What every use case is given: where to work, what time it is, and who asks."""

from __future__ import annotations

from dataclasses import dataclass, field

from stockpool.services.allocation_plan import PlanCache
from stockpool.services.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class Services:
    """The dependencies of the use cases, built once by `stockpool.bootstrap`."""

    uow: UnitOfWorkFactory
    clock: Clock
    plans: PlanCache = field(default_factory=PlanCache)
