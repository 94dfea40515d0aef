"""Use cases of purchasing: suppliers and their terms, purchase orders from draft to receipt.

An open order's outstanding units are `incoming` at its destination: opening adds them,
and every receipt, close or cancel takes off what it settles. Receipts put units on the
shelf (receipt movements), update the item's average unit cost and record the lead time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from stockpool.domain.catalog import require_code, require_money, require_title
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import MovementKind, StockDelta
from stockpool.domain.purchasing import (
    EDITABLE_STATUSES,
    INCOMING_STATUSES,
    PoLine,
    PoStatus,
    PurchaseOrder,
    ReceiptLine,
    Supplier,
    SupplierCode,
    SupplierItem,
    lead_time_days,
    moving_average_cost,
    order_warnings,
    plan_po_receipt,
    require_currency,
    require_days,
    require_status,
    status_after_receipt,
)
from stockpool.domain.quantities import require_units
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork
from stockpool.services.stock import Actor, Posting, commit_stock_change, post_in_key_order


def add_supplier(
    app: Services, code: str, name: str, *, currency: str = "USD", lead_time_days: int = 14
) -> Supplier:
    """Create a supplier."""
    supplier = Supplier(
        SupplierCode(require_code(code, what="supplier code")),
        require_title(name, what="name"),
        require_currency(currency),
        require_days(lead_time_days),
    )
    with app.uow() as uow:
        uow.purchasing.add_supplier(supplier, at=app.clock())
        uow.commit()
    return supplier


def update_supplier(app: Services, code: str, **changes: Any) -> Supplier:
    """Change name, currency or default lead time of a supplier (None leaves a field)."""
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda v: require_title(v, what="name"),
        "currency": require_currency,
        "lead_time_days": require_days,
    }
    values = {}
    for name, value in changes.items():
        if name not in checks:
            raise InvalidInput(f"a supplier has no field {name!r} that can be changed")
        if value is not None:
            values[name] = checks[name](value)
    with app.uow() as uow:
        supplier = uow.purchasing.update_supplier(SupplierCode(code), values, at=app.clock())
        uow.commit()
    return supplier


def list_suppliers(app: Services) -> list[Supplier]:
    """Every supplier, by code."""
    with app.uow() as uow:
        return uow.purchasing.list_suppliers()


def set_supplier_item(
    app: Services,
    supplier: str,
    sku: str,
    *,
    unit_cost: str | Decimal,
    moq: int = 1,
    case_pack: int = 1,
    lead_time_days: int | None = None,
) -> SupplierItem:
    """Store a supplier's terms for an item: cost, MOQ, case pack, lead time."""
    cost = require_money(unit_cost, what="unit cost")
    if cost is None:
        raise InvalidInput("terms need a unit cost")
    terms = SupplierItem(
        SupplierCode(supplier),
        Sku(sku),
        cost,
        require_units(moq, what="MOQ"),
        require_units(case_pack, what="case pack"),
        None if lead_time_days is None else require_days(lead_time_days),
    )
    with app.uow() as uow:
        uow.catalog.get_item(Sku(sku))
        uow.purchasing.set_terms(terms, at=app.clock())
        uow.commit()
    return terms


def supplier_terms(app: Services, supplier: str) -> list[SupplierItem]:
    """A supplier's terms for every item, by SKU."""
    with app.uow() as uow:
        return uow.purchasing.list_terms(SupplierCode(supplier))


@dataclass(frozen=True)
class Drafted:
    """A new purchase order, and what the buyer should check (MOQ, case pack)."""

    po: PurchaseOrder
    warnings: list[str]


def _po_lines(
    uow: UnitOfWork, supplier: SupplierCode, lines: dict[str, int], costs: dict[str, Any]
) -> tuple[list[PoLine], list[str]]:
    made, warnings = [], []
    for sku, quantity in sorted(lines.items()):
        uow.catalog.get_item(Sku(sku))
        units = require_units(quantity, what=f"quantity of {sku}")
        found = uow.purchasing.list_terms(supplier, Sku(sku))
        terms = found[0] if found else None
        cost = require_money(costs.get(sku), what=f"unit cost of {sku}")
        if cost is None:
            if terms is None:
                raise InvalidInput(
                    f"no unit cost for {sku}: give SKU:QTY@COST or set the supplier's terms"
                )
            cost = terms.unit_cost
        made.append(PoLine(Sku(sku), units, cost))
        warnings += order_warnings(terms, units)
    return made, warnings


def create_po(
    app: Services,
    supplier: str,
    destination: str,
    lines: dict[str, int],
    *,
    actor: Actor,
    costs: dict[str, Any] | None = None,
    expected_at: datetime | None = None,
) -> Drafted:
    """Draft a purchase order (unit costs default to the supplier's terms)."""
    if not lines:
        raise InvalidInput("a purchase order needs at least one line")
    with app.uow() as uow:
        code = uow.purchasing.get_supplier(SupplierCode(supplier)).code
        uow.catalog.get_location(LocationCode(destination))
        po_lines, warnings = _po_lines(uow, code, lines, costs or {})
        po_id = uow.purchasing.create_po(
            code,
            LocationCode(destination),
            po_lines,
            reference=actor.reference,
            actor=actor.name,
            at=app.clock(),
            expected_at=expected_at,
        )
        po = uow.purchasing.get_po(po_id)
        uow.commit()
    return Drafted(po, warnings)


def _incoming(po: PurchaseOrder, sign: int) -> list[Posting]:
    return [
        Posting(
            line.sku,
            po.destination,
            MovementKind.RECEIPT,
            StockDelta(incoming=sign * line.outstanding),
            f"PO {po.id}",
        )
        for line in po.lines
        if line.outstanding
    ]


def _default_expected(uow: UnitOfWork, po: PurchaseOrder, now: datetime) -> datetime:
    supplier = uow.purchasing.get_supplier(po.supplier)
    days = [
        terms.lead_time_days
        for terms in uow.purchasing.list_terms(po.supplier)
        if terms.lead_time_days is not None and any(li.sku == terms.sku for li in po.lines)
    ]
    return now + timedelta(days=max(days, default=supplier.lead_time_days))


def open_po(
    app: Services, po_id: int, *, actor: Actor, expected_at: datetime | None = None
) -> PurchaseOrder:
    """Send a draft: its units become incoming at the destination, with an expected date.

    Without a date (given now or before) the order is expected after the longest lead time
    of its items (their terms, else the supplier's default).
    """
    with app.uow() as uow:
        uow.purchasing.lock_po(po_id)
        po = uow.purchasing.get_po(po_id)
        require_status(po, frozenset({PoStatus.DRAFT}), "be opened")
        now = app.clock()
        expected = expected_at or po.expected_at or _default_expected(uow, po, now)
        uow.purchasing.update_po(
            po_id, {"status": PoStatus.OPEN, "opened_at": now, "expected_at": expected}
        )
        ref = replace(actor, reference=actor.reference or f"po:{po_id}")
        post_in_key_order(uow, app, _incoming(po, +1), actor=ref)
        result = uow.purchasing.get_po(po_id)
        commit_stock_change(uow, app)
    return result


def set_expected(app: Services, po_id: int, expected_at: datetime) -> PurchaseOrder:
    """Change the date an order is expected."""
    with app.uow() as uow:
        uow.purchasing.lock_po(po_id)
        require_status(uow.purchasing.get_po(po_id), EDITABLE_STATUSES, "change its date")
        uow.purchasing.update_po(po_id, {"expected_at": expected_at})
        po = uow.purchasing.get_po(po_id)
        uow.commit()
    return po


def _receive_line(
    uow: UnitOfWork, po: PurchaseOrder, receipt: ReceiptLine, now: datetime
) -> PoLine:
    uow.catalog.lock_item(receipt.sku)  # two receipts must not average from the same cost
    on_hand = sum(state.on_hand for _, state in uow.stock.states_of(receipt.sku))
    item = uow.catalog.get_item(receipt.sku)
    cost = moving_average_cost(item.unit_cost, on_hand, receipt.quantity, receipt.landed_cost)
    uow.catalog.update_item(receipt.sku, {"unit_cost": cost}, at=now)
    assert po.opened_at is not None
    uow.purchasing.record_lead_time(
        po, receipt.sku, receipt.quantity, received_at=now, days=lead_time_days(po.opened_at, now)
    )
    line = po.line(receipt.sku)
    received = line.received + receipt.quantity
    uow.purchasing.set_received(po.id, receipt.sku, received)
    return replace(line, received=received)


def receive_po(
    app: Services,
    po_id: int,
    quantities: dict[str, int] | None = None,
    *,
    actor: Actor,
    costs: dict[str, Any] | None = None,
) -> PurchaseOrder:
    """Receive units of an open order (all outstanding when none given); over-receipt is kept.

    Args:
        app: the services.
        po_id: the order.
        quantities: units received per SKU.
        actor: who receives.
        costs: landed unit cost per SKU where it differs from the order's unit cost.
    """
    asked = {
        Sku(s): require_units(q, what=f"quantity of {s}") for s, q in (quantities or {}).items()
    }
    landed = {}
    for sku, value in (costs or {}).items():
        cost = require_money(value, what=f"landed cost of {sku}")
        if cost is not None:
            landed[Sku(sku)] = cost
    with app.uow() as uow:
        uow.purchasing.lock_po(po_id)
        po = uow.purchasing.get_po(po_id)
        plan = plan_po_receipt(po, asked, landed)
        now = app.clock()
        lines = {line.sku: line for line in po.lines}
        for receipt in plan:
            lines[receipt.sku] = _receive_line(uow, po, receipt, now)
        postings = [
            Posting(
                r.sku,
                po.destination,
                MovementKind.RECEIPT,
                StockDelta(on_hand=r.quantity, incoming=-r.released),
                f"PO {po_id} from {po.supplier}",
            )
            for r in plan
        ]
        ref = replace(actor, reference=actor.reference or f"po:{po_id}")
        post_in_key_order(uow, app, postings, actor=ref)
        status = status_after_receipt(tuple(lines.values()))
        changes: dict[str, Any] = {"status": status}
        if status is PoStatus.RECEIVED:
            changes["closed_at"] = now
        uow.purchasing.update_po(po_id, changes)
        result = uow.purchasing.get_po(po_id)
        commit_stock_change(uow, app)
    return result


def _settle(app: Services, po_id: int, status: PoStatus, *, actor: Actor) -> PurchaseOrder:
    allowed = EDITABLE_STATUSES if status is PoStatus.CANCELLED else INCOMING_STATUSES
    verb = "be cancelled" if status is PoStatus.CANCELLED else "be closed"
    with app.uow() as uow:
        uow.purchasing.lock_po(po_id)
        po = uow.purchasing.get_po(po_id)
        require_status(po, allowed, verb)
        if po.status in INCOMING_STATUSES:
            ref = replace(actor, reference=actor.reference or f"po:{po_id}")
            post_in_key_order(uow, app, _incoming(po, -1), actor=ref)
        uow.purchasing.update_po(po_id, {"status": status, "closed_at": app.clock()})
        result = uow.purchasing.get_po(po_id)
        commit_stock_change(uow, app)
    return result


def close_po(app: Services, po_id: int, *, actor: Actor) -> PurchaseOrder:
    """Expect no more from an open or partly received order: its incoming is released."""
    return _settle(app, po_id, PoStatus.CLOSED, actor=actor)


def cancel_po(app: Services, po_id: int, *, actor: Actor) -> PurchaseOrder:
    """Void an order (draft, open or partly received); received units stay on the shelf."""
    return _settle(app, po_id, PoStatus.CANCELLED, actor=actor)


def get_po(app: Services, po_id: int) -> PurchaseOrder:
    """One purchase order."""
    with app.uow() as uow:
        return uow.purchasing.get_po(po_id)


def list_pos(
    app: Services, *, status: PoStatus | None = None, limit: int = 100
) -> list[PurchaseOrder]:
    """The newest purchase orders."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    with app.uow() as uow:
        return uow.purchasing.list_pos(status=status, limit=limit)


def lead_times(app: Services, supplier: str, sku: str) -> list[Decimal]:
    """Every lead time (days) observed for an item from a supplier, oldest first."""
    with app.uow() as uow:
        uow.catalog.get_item(Sku(sku))
        return uow.purchasing.lead_times(SupplierCode(supplier), Sku(sku))
