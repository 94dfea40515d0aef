"""Count reconciliation: a 3PL report or a cycle count compared with the ledger.

Each counted line has a variance: counted minus on_hand *as of the time it was counted*,
which is today's on_hand less the movements posted after `counted_at`. Posting that
variance now keeps every later movement on top of the counted figure. A variance whose
units or value (units x unit cost) exceed the threshold waits for someone to approve it;
the others are posted at once. Open transfers and purchase orders that touch a counted
item at its location are shown next to the variance: they often explain it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from stockpool.domain.errors import InvalidInput, InvalidTransition
from stockpool.domain.ids import LocationCode, Sku


class CountLineStatus(StrEnum):
    """What became of one counted line."""

    MATCHED = "matched"
    POSTED = "posted"
    PENDING = "pending_approval"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Threshold:
    """Variances above these (in absolute units or value) wait for approval; None: no limit."""

    units: int | None = None
    value: Decimal | None = None

    def exceeded_by(self, variance: int, value: Decimal | None) -> bool:
        """Whether a variance needs approval."""
        if self.units is not None and abs(variance) > self.units:
            return True
        return self.value is not None and value is not None and abs(value) > self.value


@dataclass(frozen=True)
class CountedLine:
    """One line of a count file: what was found where, and when."""

    sku: Sku
    location: LocationCode
    counted: int
    counted_at: datetime | None = None


@dataclass(frozen=True)
class CountLine:
    """A reconciled line.

    Attributes:
        sku: the item.
        location: where it was counted.
        counted: units found.
        counted_at: when (None: at import).
        expected: on_hand the ledger held at that time.
        unit_cost: the item's average unit cost at import, if known.
        status: matched, posted, pending approval or rejected.
        flags: open transfers and purchase orders touching this item here.
    """

    sku: Sku
    location: LocationCode
    counted: int
    counted_at: datetime | None
    expected: int
    unit_cost: Decimal | None
    status: CountLineStatus
    flags: tuple[str, ...] = ()

    @property
    def variance(self) -> int:
        """Counted minus expected units."""
        return self.counted - self.expected

    @property
    def value(self) -> Decimal | None:
        """The variance in money (None when the unit cost is unknown)."""
        return None if self.unit_cost is None else self.unit_cost * self.variance


@dataclass(frozen=True)
class Count:
    """A count document: one imported file or cycle count."""

    id: int
    reference: str
    reason: str
    threshold: Threshold
    created_at: datetime
    lines: tuple[CountLine, ...]

    def line(self, sku: Sku, location: LocationCode) -> CountLine:
        """One line, or InvalidInput."""
        for line in self.lines:
            if (line.sku, line.location) == (sku, location):
                return line
        raise InvalidInput(f"count {self.id} has no line for {sku} at {location}")


def status_for(variance: int, value: Decimal | None, threshold: Threshold) -> CountLineStatus:
    """The status a new line gets: matched, pending approval, or posted at once."""
    if variance == 0:
        return CountLineStatus.MATCHED
    if threshold.exceeded_by(variance, value):
        return CountLineStatus.PENDING
    return CountLineStatus.POSTED


def require_pending(count: Count, line: CountLine) -> None:
    """Refuse to decide a line that is not waiting for approval."""
    if line.status is not CountLineStatus.PENDING:
        raise InvalidTransition(
            f"count {count.id}: {line.sku} at {line.location} is {line.status.value}, "
            "not pending approval"
        )


def as_of(on_hand_now: int, moved_since: int) -> int:
    """on_hand at a past time: today's figure less what moved since."""
    return on_hand_now - moved_since
