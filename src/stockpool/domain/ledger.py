"""The stock ledger: immutable records from which every balance can be rebuilt.

Every change of `on_hand` is a `Movement`. Units that move between `available` and an
unavailable reason without leaving the shelf are a `StatusChange`. Stored balances are a
cache of these records (plus open commitments and documents for `committed` and
`incoming`): `rebuild` recomputes them and `compare` lists every difference.

The `plan_*` functions turn an operation into a `StockDelta` per level; the store applies a
delta with one conditional write that refuses to take any state below zero, so concurrent
operations can never jointly overdraw a level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from stockpool.domain.errors import InsufficientStock, InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.quantities import StockState, UnavailableReason


class MovementKind(StrEnum):
    """What caused a change of on_hand."""

    RECEIPT = "receipt"
    ADJUSTMENT = "adjustment"
    COUNT = "count"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    SHIPMENT = "shipment"
    RETURN = "return"
    CHANNEL_REPORT = "channel_report"


LevelKey = tuple[Sku, LocationCode]


@dataclass(frozen=True)
class Movement:
    """One immutable change of on_hand at a location.

    Attributes:
        sku: the item.
        location: where the units are.
        kind: what caused it.
        quantity: signed change of on_hand (never 0).
        reason: why, in words (required for adjustments).
        actor: who or what did it.
        reference: the document behind it (order, PO, transfer, import file).
        at: when it happened.
    """

    sku: Sku
    location: LocationCode
    kind: MovementKind
    quantity: int
    reason: str
    actor: str
    reference: str
    at: datetime


@dataclass(frozen=True)
class StatusChange:
    """Units of on_hand moved into (+) or out of (-) an unavailable reason."""

    sku: Sku
    location: LocationCode
    reason: UnavailableReason
    quantity: int
    actor: str
    note: str
    reference: str
    at: datetime


@dataclass(frozen=True)
class StockDelta:
    """A change to apply to one level's balances; `available` follows from the others."""

    on_hand: int = 0
    committed: int = 0
    unavailable: Mapping[UnavailableReason, int] = field(default_factory=dict)
    incoming: int = 0

    @property
    def available(self) -> int:
        """The change of available implied by the other changes."""
        return self.on_hand - self.committed - sum(self.unavailable.values())

    def unavailable_of(self, reason: UnavailableReason) -> int:
        """The change of one unavailable reason (0 when untouched)."""
        return self.unavailable.get(reason, 0)

    def apply(self, state: StockState) -> StockState:
        """The state after this delta (not checked: see `violations`)."""
        return StockState(
            on_hand=state.on_hand + self.on_hand,
            committed=state.committed + self.committed,
            unavailable={
                r: state.unavailable[r] + self.unavailable_of(r) for r in UnavailableReason
            },
            incoming=state.incoming + self.incoming,
        )


def plan_receive(quantity: int) -> StockDelta:
    """Units arrive on the shelf."""
    return StockDelta(on_hand=quantity)


def plan_adjust(delta: int) -> StockDelta:
    """A correction of on_hand by `delta` units (found, lost, written off)."""
    if delta == 0:
        raise InvalidInput("an adjustment must change on_hand: delta must not be 0")
    return StockDelta(on_hand=delta)


def plan_count(state: StockState, counted: int) -> StockDelta:
    """Set on_hand to what was counted; the variance becomes a count movement.

    Units missing beyond what was available are taken out of the unavailable reasons
    (damaged first: damaged units are the likeliest to have been thrown away). A count
    below the committed units cannot be posted here: those units are promised to orders.
    """
    variance = counted - state.on_hand
    if variance >= 0:
        return StockDelta(on_hand=variance)
    missing = -variance - state.available
    taken: dict[UnavailableReason, int] = {}
    for reason in UnavailableReason:
        if missing <= 0:
            break
        take = min(missing, state.unavailable[reason])
        if take:
            taken[reason] = -take
            missing -= take
    if missing > 0:
        raise InsufficientStock(
            f"the count of {counted} is below the {state.committed} units committed to orders; "
            "cancel or re-source those orders first",
            asked=-variance,
            available=state.on_hand - state.committed,
        )
    return StockDelta(on_hand=variance, unavailable=MappingProxyType(taken))


def plan_reclassify(
    quantity: int, *, source: UnavailableReason | None, target: UnavailableReason | None
) -> StockDelta:
    """Move units between available (None) and an unavailable reason, or between reasons."""
    if source == target:
        raise InvalidInput("moving units to the state they are already in changes nothing")
    change: dict[UnavailableReason, int] = {}
    if source is not None:
        change[source] = -quantity
    if target is not None:
        change[target] = quantity
    return StockDelta(unavailable=MappingProxyType(change))


def violations(state: StockState) -> list[str]:
    """Every broken invariant of one level's balances (empty when sound)."""
    found = [
        f"{name} is negative ({value})"
        for name, value in (
            ("on_hand", state.on_hand),
            ("committed", state.committed),
            ("incoming", state.incoming),
            ("available", state.available),
        )
        if value < 0
    ]
    found += [
        f"unavailable {reason} is negative ({value})"
        for reason, value in state.unavailable.items()
        if value < 0
    ]
    return found


def rebuild(
    movements: Iterable[tuple[LevelKey, int]],
    status_changes: Iterable[tuple[LevelKey, UnavailableReason, int]],
    committed: Mapping[LevelKey, int],
    incoming: Mapping[LevelKey, int],
) -> dict[LevelKey, StockState]:
    """Balances as the records say they are.

    Args:
        movements: (level, quantity) of every movement.
        status_changes: (level, reason, quantity) of every status change.
        committed: open commitments per level.
        incoming: open inbound quantities per level.
    """
    on_hand: dict[LevelKey, int] = {}
    unavailable: dict[LevelKey, dict[UnavailableReason, int]] = {}
    for key, quantity in movements:
        on_hand[key] = on_hand.get(key, 0) + quantity
    for key, reason, quantity in status_changes:
        bucket = unavailable.setdefault(key, dict.fromkeys(UnavailableReason, 0))
        bucket[reason] += quantity
    keys = set(on_hand) | set(unavailable) | set(committed) | set(incoming)
    return {
        key: StockState(
            on_hand=on_hand.get(key, 0),
            committed=committed.get(key, 0),
            unavailable=unavailable.get(key, dict.fromkeys(UnavailableReason, 0)),
            incoming=incoming.get(key, 0),
        )
        for key in keys
    }


@dataclass(frozen=True)
class Difference:
    """A stored balance that disagrees with the records."""

    sku: Sku
    location: LocationCode
    field: str
    stored: int
    rebuilt: int


def _fields(state: StockState) -> dict[str, int]:
    values = {
        "on_hand": state.on_hand,
        "committed": state.committed,
        "available": state.available,
        "incoming": state.incoming,
    }
    values.update({f"unavailable.{r}": state.unavailable[r] for r in UnavailableReason})
    return values


def compare(
    stored: Mapping[LevelKey, tuple[StockState, int]], rebuilt: Mapping[LevelKey, StockState]
) -> list[Difference]:
    """Every difference between stored balances and rebuilt ones.

    Args:
        stored: per level, the stored state and the stored `available` column (which must
            equal the derived one as well).
        rebuilt: per level, the state rebuilt from records.
    """
    empty = StockState()
    found: list[Difference] = []
    for key in sorted(set(stored) | set(rebuilt)):
        state, stored_available = stored.get(key, (empty, 0))
        left = _fields(state)
        left["available"] = stored_available
        right = _fields(rebuilt.get(key, empty))
        found += [
            Difference(key[0], key[1], name, left[name], right[name])
            for name in left
            if left[name] != right[name]
        ]
    return found
