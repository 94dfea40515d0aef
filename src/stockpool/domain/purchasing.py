"""Purchasing: suppliers, their terms per item, and purchase orders.

A supplier sells items on terms (unit cost, minimum order quantity, case pack, lead time).
A purchase order goes `draft -> open -> partially_received -> received`, or ends `closed`
(short-closed: no more is expected) or `cancelled`. While it is open its outstanding units
are `incoming` at its destination, with an expected date. Receipts may be short or over:
an over-receipt puts every unit on the shelf but releases no more incoming than was
outstanding. Each receipt updates the item's average unit cost (moving weighted average
over on_hand at all locations) and records the lead time observed since the order opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import NewType

from stockpool.domain.errors import InvalidInput, InvalidTransition
from stockpool.domain.ids import LocationCode, Sku

COST_QUANTUM = Decimal("0.0001")
SupplierCode = NewType("SupplierCode", str)


class PoStatus(StrEnum):
    """Where a purchase order stands."""

    DRAFT = "draft"
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


INCOMING_STATUSES = frozenset({PoStatus.OPEN, PoStatus.PARTIALLY_RECEIVED})
EDITABLE_STATUSES = frozenset({PoStatus.DRAFT, *INCOMING_STATUSES})


@dataclass(frozen=True)
class Supplier:
    """Who we buy from.

    Attributes:
        code: short key people use.
        name: the supplier's name.
        currency: ISO 4217 code its prices are in.
        lead_time_days: default days from order to receipt.
    """

    code: SupplierCode
    name: str
    currency: str = "USD"
    lead_time_days: int = 14


@dataclass(frozen=True)
class SupplierItem:
    """A supplier's terms for one item (lead_time_days None: the supplier's default)."""

    supplier: SupplierCode
    sku: Sku
    unit_cost: Decimal
    moq: int = 1
    case_pack: int = 1
    lead_time_days: int | None = None


@dataclass(frozen=True)
class PoLine:
    """One item on a purchase order: ordered, received so far, and its unit cost."""

    sku: Sku
    quantity: int
    unit_cost: Decimal
    received: int = 0

    @property
    def outstanding(self) -> int:
        """Units still expected (never negative, even after an over-receipt)."""
        return max(self.quantity - self.received, 0)


@dataclass(frozen=True)
class PurchaseOrder:
    """A purchase order document."""

    id: int
    supplier: SupplierCode
    destination: LocationCode
    status: PoStatus
    lines: tuple[PoLine, ...]
    reference: str
    created_at: datetime
    expected_at: datetime | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    def line(self, sku: Sku) -> PoLine:
        """The line of one item, or InvalidInput if the order does not carry it."""
        for line in self.lines:
            if line.sku == sku:
                return line
        raise InvalidInput(f"purchase order {self.id} has no line for {sku}")


@dataclass(frozen=True)
class ReceiptLine:
    """What receiving some units of one line does.

    Attributes:
        sku: the item.
        quantity: units put on the shelf.
        released: units of incoming released (at most what was outstanding).
        landed_cost: cost of one received unit.
    """

    sku: Sku
    quantity: int
    released: int
    landed_cost: Decimal


def require_status(po: PurchaseOrder, allowed: frozenset[PoStatus], action: str) -> None:
    """Refuse an action the order's status does not allow."""
    if po.status not in allowed:
        can = ", ".join(sorted(s.value for s in allowed))
        raise InvalidTransition(
            f"purchase order {po.id} is {po.status.value}: only a PO that is {can} can {action}"
        )


def require_currency(text: str) -> str:
    """An ISO 4217 code: three letters (stored upper case)."""
    code = text.strip().upper()
    if len(code) != 3 or not code.isascii() or not code.isalpha():
        raise InvalidInput(f"currency must be a three-letter code like EUR, got {text!r}")
    return code


def require_days(value: int, *, what: str = "lead time") -> int:
    """A whole number of days from 0 to 3650."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3650:
        raise InvalidInput(f"{what} must be a whole number of days from 0 to 3650, got {value!r}")
    return value


def plan_po_receipt(
    po: PurchaseOrder, quantities: dict[Sku, int], costs: dict[Sku, Decimal]
) -> list[ReceiptLine]:
    """Check a receipt against the order; empty `quantities` receives all outstanding.

    Args:
        po: the order as stored.
        quantities: units received per item (more than outstanding is an over-receipt).
        costs: landed unit cost per item where it differs from the line's unit cost.
    """
    require_status(po, INCOMING_STATUSES, "be received")
    if not quantities:
        quantities = {line.sku: line.outstanding for line in po.lines if line.outstanding}
        if not quantities:
            raise InvalidInput(f"purchase order {po.id} has nothing outstanding")
    plan = []
    for sku, quantity in sorted(quantities.items()):
        line = po.line(sku)
        landed = costs.get(sku, line.unit_cost)
        plan.append(ReceiptLine(sku, quantity, min(quantity, line.outstanding), landed))
    return plan


def status_after_receipt(lines: tuple[PoLine, ...]) -> PoStatus:
    """RECEIVED when every line has all its units, else PARTIALLY_RECEIVED."""
    if all(line.received >= line.quantity for line in lines):
        return PoStatus.RECEIVED
    return PoStatus.PARTIALLY_RECEIVED


def moving_average_cost(
    old_cost: Decimal | None, on_hand: int, received: int, landed_cost: Decimal
) -> Decimal:
    """The average unit cost after `received` units at `landed_cost` join `on_hand` units.

    With no known cost or nothing on hand, the landed cost becomes the average.
    """
    if old_cost is None or on_hand <= 0:
        return landed_cost.quantize(COST_QUANTUM, ROUND_HALF_EVEN)
    total = old_cost * on_hand + landed_cost * received
    return (total / (on_hand + received)).quantize(COST_QUANTUM, ROUND_HALF_EVEN)


def order_warnings(terms: SupplierItem | None, quantity: int) -> list[str]:
    """What a buyer should know about ordering `quantity` on these terms (MOQ, case pack)."""
    if terms is None:
        return []
    found = []
    if quantity < terms.moq:
        found.append(f"{terms.sku}: {quantity} is below the MOQ of {terms.moq}")
    if terms.case_pack > 1 and quantity % terms.case_pack:
        found.append(f"{terms.sku}: {quantity} is not a multiple of case pack {terms.case_pack}")
    return found


def lead_time_days(opened_at: datetime, received_at: datetime) -> Decimal:
    """Days (to 0.001) from opening an order to receiving from it."""
    seconds = Decimal((received_at - opened_at).total_seconds())
    return (seconds / Decimal(86400)).quantize(Decimal("0.001"), ROUND_HALF_EVEN)
