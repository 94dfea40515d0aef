"""Stock levels, movements and the stock operations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from stockpool.api.schemas.common import Code, Input, Output, SignedUnits, Sku, Units, UnitsOrZero
from stockpool.domain.ledger import Movement
from stockpool.domain.quantities import StockState, UnavailableReason

Reason = Literal["damaged", "quality_control", "safety_stock", "hold"]
Note = Annotated[str, Field(max_length=1000)]
Reference = Annotated[str, Field(max_length=500, description="The document behind it.")]


class Unavailable(Output):
    """Units of on_hand that must not be sold, per reason."""

    damaged: int
    quality_control: int
    safety_stock: int
    hold: int


class StockLevelPublic(Output):
    """An item's stock at one location (the fields of `stock show --json`)."""

    location: str
    on_hand: int
    committed: int
    unavailable: Unavailable
    available: int
    incoming: int

    @classmethod
    def of(cls, location: str, state: StockState) -> StockLevelPublic:
        """From a location code and its state."""
        held = {r.value: state.unavailable[r] for r in UnavailableReason}
        return cls(
            location=location,
            on_hand=state.on_hand,
            committed=state.committed,
            unavailable=Unavailable(**held),
            available=state.available,
            incoming=state.incoming,
        )


class MovementPublic(Output):
    """One immutable change of on_hand."""

    sku: str
    location: str
    kind: str
    quantity: int
    reason: str
    actor: str
    reference: str
    at: datetime

    @classmethod
    def of(cls, m: Movement) -> MovementPublic:
        """From the domain record."""
        return cls(
            sku=m.sku,
            location=m.location,
            kind=m.kind.value,
            quantity=m.quantity,
            reason=m.reason,
            actor=m.actor,
            reference=m.reference,
            at=m.at,
        )


class MovementsPublic(Output):
    """A page of movements, newest first."""

    data: list[MovementPublic]
    next_cursor: str | None


class Receipt(Input):
    """Units put on the shelf."""

    sku: Sku
    location: Code
    quantity: Units
    reason: Note = ""
    reference: Reference = ""


class Adjustment(Input):
    """A correction of on_hand (a loss can take only available units)."""

    sku: Sku
    location: Code
    delta: SignedUnits
    reason: Annotated[str, Field(min_length=1, max_length=1000)]
    reference: Reference = ""


class CountTaken(Input):
    """A count: on_hand becomes the counted units."""

    sku: Sku
    location: Code
    counted: UnitsOrZero
    reason: Note = ""
    reference: Reference = ""


class CountResultPublic(Output):
    """What a count changed."""

    counted: int
    variance: int
    level: StockLevelPublic


class Damage(Input):
    """Available units found damaged."""

    sku: Sku
    location: Code
    quantity: Units
    note: Note = ""


class Hold(Input):
    """Available units held back from sale."""

    sku: Sku
    location: Code
    quantity: Units
    reason: Reason = "quality_control"
    note: Note = ""


class Release(Input):
    """Held units released to available (or moved to another reason)."""

    sku: Sku
    location: Code
    quantity: Units
    source: Reason = Field(alias="from")
    to: Reason | None = None
    note: Note = ""
