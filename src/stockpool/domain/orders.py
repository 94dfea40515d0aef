"""Orders: lines of listings, the units committed to them, and their lifecycle.

An order belongs to a channel and is known by the channel's own id (its external id); the
pair is unique. Each line sells `quantity` units of one listing; a listing unit needs
`per_unit` units of each leaf item (multiplier x bundle quantities), so a line's need of an
item is `open x per_unit`, where `open = quantity - shipped - cancelled`.

The need is committed at locations (`Commitment`). A check-and-reserve order commits all of
it or is refused (`OrderRefused`, with a `Shortfall` per line). An ingested order commits
what stock allows; the units it could not cover are `missing` and make an oversold
exception, which lists the items that ran short. While an item has an open oversold
exception every listing that depends on it shows 0 (`zero_oversold`).

Lifecycle: open -> shipped (in parts; a listing unit ships only when all of its components
are committed) -> returned; or cancelled, in whole or per line. Ingested orders change by
the channel's notifications, each a full snapshot applied only if it is newer than the last
one applied (`decide_notification`). This module is pure: time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from stockpool.domain.errors import InvalidInput, InvalidTransition, StockpoolError
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.quantities import require_units

EXTERNAL_ID_MAX_LENGTH = 200
MAX_LINES = 500


class OrderKind(StrEnum):
    """How the order came in: our own check-and-reserve, or a channel's accepted order."""

    RESERVE = "reserve"
    INGEST = "ingest"


class OrderStatus(StrEnum):
    """Open while any line has units neither shipped nor cancelled."""

    OPEN = "open"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"


class NotificationKind(StrEnum):
    """What a channel's notification says happened to an order."""

    CREATE = "create"
    UPDATE = "update"
    CANCEL = "cancel"


@dataclass(frozen=True, slots=True)
class LineRequest:
    """`quantity` listing units of one listing."""

    listing_id: ListingId
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Why one line was refused: it asked more than the listing's available-to-sell."""

    listing_id: ListingId
    asked: int
    available: int


class OrderRefused(StockpoolError):
    """A check-and-reserve order some line of which does not fit; nothing was changed."""

    def __init__(
        self, channel: ChannelCode, external_id: str, shortfall: Sequence[Shortfall]
    ) -> None:
        parts = ", ".join(f"{s.listing_id} asked {s.asked}, ATS {s.available}" for s in shortfall)
        super().__init__(f"order {channel}/{external_id} refused: {parts}")
        self.channel = channel
        self.external_id = external_id
        self.shortfall = tuple(shortfall)


@dataclass(frozen=True, slots=True)
class Commitment:
    """Units of one item for one line at one location: still committed, shipped, returned."""

    sku: Sku
    location: LocationCode
    committed: int = 0
    shipped: int = 0
    returned: int = 0


@dataclass(frozen=True)
class OrderLine:
    """One line of an order.

    Attributes:
        line_no: 1, 2, ... in the order's own order.
        listing_id: the channel's listing.
        sku: the item or bundle the listing sells.
        components: (leaf item, units per listing unit), by SKU.
        quantity: listing units ordered.
        shipped: listing units shipped.
        cancelled: listing units cancelled.
        returned: listing units returned (restocked or damaged).
        commitments: per item and location.
    """

    line_no: int
    listing_id: ListingId
    sku: Sku
    components: tuple[tuple[Sku, int], ...]
    quantity: int
    shipped: int = 0
    cancelled: int = 0
    returned: int = 0
    commitments: tuple[Commitment, ...] = ()

    @property
    def open(self) -> int:
        """Listing units neither shipped nor cancelled."""
        return self.quantity - self.shipped - self.cancelled

    def committed(self, sku: Sku) -> int:
        """Units of an item committed to this line, over all locations."""
        return sum(c.committed for c in self.commitments if c.sku == sku)

    @property
    def covered(self) -> int:
        """Open listing units whose every component is committed."""
        if not self.components:
            return 0
        least = min(self.committed(sku) // per for sku, per in self.components)
        return min(self.open, least)

    @property
    def missing(self) -> int:
        """Open listing units not covered by commitments (oversold)."""
        return self.open - self.covered

    def short_items(self) -> dict[Sku, int]:
        """Item units still to commit for the open units, by item (empty when covered)."""
        found = {sku: self.open * per - self.committed(sku) for sku, per in self.components}
        return {sku: units for sku, units in found.items() if units > 0}


@dataclass(frozen=True)
class Order:
    """An order and its lines, as recorded."""

    channel: ChannelCode
    external_id: str
    kind: OrderKind
    status: OrderStatus
    lines: tuple[OrderLine, ...]
    created_at: datetime
    updated_at: datetime
    ship_to_zone: str | None = None
    channel_updated_at: datetime | None = None

    def line(self, line_no: int) -> OrderLine:
        """One line by number, or InvalidInput naming the lines there are."""
        for found in self.lines:
            if found.line_no == line_no:
                return found
        numbers = ", ".join(str(x.line_no) for x in self.lines) or "none"
        raise InvalidInput(f"order {self.external_id} has no line {line_no} (lines: {numbers})")


def require_external_id(text: str) -> str:
    """A channel's order id: 1 to 200 printable characters without surrounding spaces."""
    if (
        not isinstance(text, str)
        or not text
        or len(text) > EXTERNAL_ID_MAX_LENGTH
        or text != text.strip()
        or not text.isprintable()
    ):
        raise InvalidInput(f"external id must be 1 to 200 printable characters, got {text!r}")
    return text


def require_lines(
    requests: Iterable[LineRequest], *, allow_empty: bool = False
) -> tuple[LineRequest, ...]:
    """Validate lines; lines of the same listing are merged, in order of first appearance."""
    merged: dict[ListingId, int] = {}
    for request in requests:
        if not isinstance(request.listing_id, str) or not request.listing_id.strip():
            raise InvalidInput(f"a line needs a listing id, got {request.listing_id!r}")
        units = require_units(request.quantity, what=f"quantity of {request.listing_id}")
        merged[request.listing_id] = merged.get(request.listing_id, 0) + units
    if not merged and not allow_empty:
        raise InvalidInput("an order needs at least one line (listing and quantity)")
    if len(merged) > MAX_LINES:
        raise InvalidInput(f"an order may have at most {MAX_LINES} lines, got {len(merged)}")
    return tuple(LineRequest(listing, units) for listing, units in merged.items())


def status_of(lines: Sequence[OrderLine]) -> OrderStatus:
    """Open while a line has open units; else shipped if anything shipped; else cancelled."""
    if any(line.open > 0 for line in lines):
        return OrderStatus.OPEN
    if any(line.shipped > 0 for line in lines):
        return OrderStatus.SHIPPED
    return OrderStatus.CANCELLED


def resize(line: OrderLine, requested: int) -> tuple[int, int]:
    """(quantity, cancelled) of a line after the channel says it now asks `requested` units.

    Units already shipped cannot be taken back: the line never drops below them.
    """
    wanted = max(requested, line.shipped)
    quantity = max(line.quantity, wanted)
    return quantity, quantity - wanted


def require_shippable(line: OrderLine, units: int) -> None:
    """Raise unless `units` listing units of the line can ship now."""
    if units > line.open:
        raise InvalidTransition(
            f"line {line.line_no} has {line.open} open units; {units} cannot ship"
        )
    if units > line.covered:
        raise InvalidTransition(
            f"line {line.line_no} has only {line.covered} units committed ({line.missing} "
            "oversold): resolve the exception first (`stockpool orders resolve`)"
        )


def require_cancellable(line: OrderLine, units: int) -> None:
    """Raise unless `units` open listing units of the line can be cancelled."""
    if units > line.open:
        raise InvalidTransition(
            f"line {line.line_no} has {line.open} open units; {units} cannot be cancelled"
        )


def require_returnable(line: OrderLine, units: int) -> None:
    """Raise unless `units` shipped listing units of the line can come back."""
    if units > line.shipped - line.returned:
        raise InvalidTransition(
            f"line {line.line_no} has {line.shipped - line.returned} shipped units not yet "
            f"returned; {units} cannot be returned"
        )


def draw(rows: Iterable[tuple[LocationCode, int]], units: int) -> list[tuple[LocationCode, int]]:
    """Take `units` from (location, units) rows in the order given (all must be there)."""
    taken: list[tuple[LocationCode, int]] = []
    for location, held in rows:
        if units <= 0:
            break
        take = min(held, units)
        if take > 0:
            taken.append((location, take))
            units -= take
    if units > 0:
        raise InvalidTransition(f"{units} units are not where the order says they are")
    return taken


def decide_notification(
    kind: NotificationKind,
    updated_at: datetime,
    *,
    stored_at: datetime | None,
    exists: bool,
    has_lines: bool,
) -> str:
    """What to do with a channel's notification about an order.

    Returns:
        "create" for an order not yet recorded; "apply" for a newer snapshot of a recorded
        one; "fill" when only a cancellation was recorded so far and this older notification
        brings the lines (recorded, nothing committed); "ignore" for a duplicate or a stale
        snapshot.
    """
    if not exists:
        return "create"
    if stored_at is not None and updated_at <= stored_at:
        return "fill" if not has_lines and kind is not NotificationKind.CANCEL else "ignore"
    return "apply"


@dataclass(frozen=True)
class OversoldException:
    """Units of an ingested line that stock could not cover.

    Attributes:
        channel: the order's channel.
        external_id: the order's id on the channel.
        line_no: the line.
        listing_id: the line's listing.
        missing: listing units not covered.
        items: item units still to commit, per item that ran short.
        created_at: when the line first ran short.
        resolved_at: when it was covered (or cancelled), None while open.
    """

    channel: ChannelCode
    external_id: str
    line_no: int
    listing_id: ListingId
    missing: int
    items: Mapping[Sku, int]
    created_at: datetime
    resolved_at: datetime | None = None

    def age_seconds(self, now: datetime) -> int:
        """How long it has been open (until resolved), in whole seconds."""
        return int(((self.resolved_at or now) - self.created_at).total_seconds())


def with_commitments(
    line: OrderLine, changes: Mapping[Sku, Mapping[LocationCode, int]], *, sign: int = 1
) -> OrderLine:
    """The line after adding (sign 1) or releasing (sign -1) committed units."""
    held = {(c.sku, c.location): c for c in line.commitments}
    for sku, places in changes.items():
        for code, units in places.items():
            old = held.get((sku, code)) or Commitment(sku, code)
            held[(sku, code)] = Commitment(
                sku, code, old.committed + sign * units, old.shipped, old.returned
            )
    return replace(line, commitments=tuple(held.values()))
