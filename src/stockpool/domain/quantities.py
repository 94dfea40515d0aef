"""The quantity model: what the ledger knows per item and location.

`on_hand` is what is physically there. Of it, `committed` units are promised to accepted
orders and `unavailable` units must not be sold, by reason. What is left is `available`.
`incoming` is on its way (open purchase orders, transfers in transit) and is not part of
`on_hand` until it is received. All quantities are whole units and never negative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from stockpool.domain.errors import InvalidInput


class UnavailableReason(StrEnum):
    """Why units of `on_hand` must not be sold."""

    DAMAGED = "damaged"
    QUALITY_CONTROL = "quality_control"
    SAFETY_STOCK = "safety_stock"
    HOLD = "hold"


def _zero_unavailable() -> dict[UnavailableReason, int]:
    return dict.fromkeys(UnavailableReason, 0)


@dataclass(frozen=True)
class StockState:
    """The balances of one item at one location.

    Attributes:
        on_hand: units physically at the location (the sum of its movements).
        committed: units of on_hand promised to accepted orders, not yet shipped.
        unavailable: units of on_hand that must not be sold, per reason.
        incoming: units on open purchase orders and inbound transfers.
    """

    on_hand: int = 0
    committed: int = 0
    unavailable: dict[UnavailableReason, int] = field(default_factory=_zero_unavailable)
    incoming: int = 0

    @property
    def unavailable_total(self) -> int:
        """All unavailable units, whatever the reason."""
        return sum(self.unavailable.values())

    @property
    def available(self) -> int:
        """Units that can be promised: on_hand - committed - unavailable."""
        return self.on_hand - self.committed - self.unavailable_total


def require_units(quantity: object, *, what: str = "quantity", allow_zero: bool = False) -> int:
    """Return `quantity` as whole units, or raise InvalidInput saying why it is not.

    Args:
        quantity: the value given by a person or a file.
        what: how to name the value in the message.
        allow_zero: whether 0 is acceptable (a count may find nothing).
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput(f"{what} must be a whole number of units, got {quantity!r}")
    if quantity < 0 or (quantity == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "at least 1"
        raise InvalidInput(f"{what} must be {bound}, got {quantity}")
    return quantity


def parse_units(
    text: str, *, what: str = "quantity", allow_zero: bool = False, signed: bool = False
) -> int:
    """Parse whole units from text ("12", "-3" when signed), rejecting "1.5" or "abc"."""
    stripped = text.strip()
    body = stripped[1:] if signed and stripped[:1] in "+-" else stripped
    if not body.isdigit() or not body.isascii():
        raise InvalidInput(f"{what} must be a whole number of units, got {text!r}")
    value = int(stripped)
    if signed:
        if value == 0:
            raise InvalidInput(f"{what} must not be 0")
        return value
    return require_units(value, what=what, allow_zero=allow_zero)
