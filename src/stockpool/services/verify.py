"""Verification: rebuild every balance from the ledger and list what disagrees."""

from __future__ import annotations

from dataclasses import dataclass

from stockpool.domain.ledger import Difference, compare, rebuild, violations
from stockpool.services.context import Services


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify`: differences and broken invariants (both empty when sound)."""

    levels_checked: int
    differences: list[Difference]
    invariant_violations: list[str]

    @property
    def clean(self) -> bool:
        """Whether nothing is wrong."""
        return not self.differences and not self.invariant_violations


def verify(app: Services) -> VerifyReport:
    """Rebuild balances from movements, status changes, commitments and open documents."""
    with app.uow() as uow:
        stored = uow.stock.stored_levels()
        rebuilt = rebuild(
            uow.stock.movement_totals(),
            uow.stock.status_totals(),
            uow.stock.open_commitments(),
            uow.stock.open_incoming(),
        )
    broken = [
        f"{sku} at {location}: {problem}"
        for (sku, location), (state, _available) in sorted(stored.items())
        for problem in violations(state)
    ]
    return VerifyReport(len(stored), compare(stored, rebuilt), broken)
