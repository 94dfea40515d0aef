"""Transfers: stock moving between two of our locations.

Shipping a transfer takes the units off the source's shelf (a `transfer_out` movement) and
shows them as `incoming` at the destination. They are in nobody's `available` while in
transit. Receiving puts them on the destination's shelf (`transfer_in`), in as many partial
receipts as needed; cancelling returns what is still in transit to the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stockpool.domain.errors import InvalidInput, InvalidTransition
from stockpool.domain.ids import LocationCode, Sku


class TransferStatus(StrEnum):
    """Where a transfer stands."""

    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_STATUSES = frozenset({TransferStatus.IN_TRANSIT, TransferStatus.PARTIALLY_RECEIVED})


@dataclass(frozen=True)
class TransferLine:
    """One item on a transfer: shipped, received so far and cancelled (returned to source)."""

    sku: Sku
    quantity: int
    received: int = 0
    cancelled: int = 0

    @property
    def in_transit(self) -> int:
        """Units still on the way."""
        return self.quantity - self.received - self.cancelled


@dataclass(frozen=True)
class Transfer:
    """A transfer document."""

    id: int
    source: LocationCode
    destination: LocationCode
    status: TransferStatus
    lines: tuple[TransferLine, ...]
    reference: str
    created_at: datetime
    expected_at: datetime | None = None

    def line(self, sku: Sku) -> TransferLine:
        """The line of one item, or InvalidInput if the transfer does not carry it."""
        for line in self.lines:
            if line.sku == sku:
                return line
        raise InvalidInput(f"transfer {self.id} does not carry {sku}")


def require_open(transfer: Transfer) -> None:
    """Refuse work on a transfer that is received or cancelled."""
    if transfer.status not in OPEN_STATUSES:
        raise InvalidTransition(
            f"transfer {transfer.id} is {transfer.status}: nothing is in transit"
        )


def plan_receipt(transfer: Transfer, quantities: dict[Sku, int]) -> dict[Sku, int]:
    """Check a receipt against what is in transit; return the units to receive per item.

    Args:
        transfer: the transfer as stored.
        quantities: units received per item; empty means everything still in transit.
    """
    require_open(transfer)
    if not quantities:
        return {line.sku: line.in_transit for line in transfer.lines if line.in_transit}
    for sku, quantity in quantities.items():
        line = transfer.line(sku)
        if quantity > line.in_transit:
            raise InvalidInput(
                f"transfer {transfer.id} has {line.in_transit} of {sku} in transit; "
                f"cannot receive {quantity}"
            )
    return quantities


def status_after(lines: tuple[TransferLine, ...]) -> TransferStatus:
    """The status a transfer has once its lines stand as given."""
    if any(line.in_transit for line in lines):
        if any(line.received for line in lines):
            return TransferStatus.PARTIALLY_RECEIVED
        return TransferStatus.IN_TRANSIT
    if any(line.received for line in lines):
        return TransferStatus.RECEIVED
    return TransferStatus.CANCELLED
