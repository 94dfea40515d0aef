"""Suppliers and their terms (admins), purchase orders (operators)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.purchasing import (
    LeadTimesPublic,
    PoCreate,
    PoOpen,
    PoPublic,
    PoReceipt,
    PosPublic,
    PoUpdate,
    SupplierCreate,
    SupplierPublic,
    SuppliersPublic,
    SupplierUpdate,
    TermsListPublic,
    TermsPublic,
    TermsSet,
)
from stockpool.api.security import Admin, Operator, Reader, services_of
from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.purchasing import PoStatus
from stockpool.services import purchasing
from stockpool.services.stock import Actor

router = APIRouter(
    tags=["purchasing"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
Code = Annotated[str, Path(min_length=1, max_length=100)]
SkuPath = Annotated[str, Path(min_length=1, max_length=100)]
PoId = Annotated[int, Path(ge=1, le=2**62)]
WRITE = documented(404, 409, 413)
WINDOW = 10_000


@router.get("/suppliers", summary="List suppliers")
def list_suppliers(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> SuppliersPublic:
    """Every supplier, by code."""
    found = purchasing.list_suppliers(services_of(request))
    page, following = paginate(found, lambda s: str(s.code), cursor, limit)
    return SuppliersPublic(data=[SupplierPublic.of(s) for s in page], next_cursor=following)


@router.post("/suppliers", status_code=201, summary="Add a supplier", responses=WRITE)
def add_supplier(request: Request, _key: Admin, body: SupplierCreate) -> SupplierPublic:
    """Add a supplier."""
    supplier = purchasing.add_supplier(
        services_of(request),
        body.code,
        body.name,
        currency=body.currency,
        lead_time_days=body.lead_time_days,
    )
    return SupplierPublic.of(supplier)


@router.get("/suppliers/{code}", summary="Get a supplier", responses=documented(404))
def get_supplier(request: Request, _key: Reader, code: Code) -> SupplierPublic:
    """One supplier."""
    for supplier in purchasing.list_suppliers(services_of(request)):
        if supplier.code == code:
            return SupplierPublic.of(supplier)
    raise NotFound(f"unknown supplier {code!r}")


@router.patch("/suppliers/{code}", summary="Change a supplier", responses=WRITE)
def update_supplier(
    request: Request, _key: Admin, code: Code, body: SupplierUpdate
) -> SupplierPublic:
    """Change a supplier's name, currency or default lead time."""
    supplier = purchasing.update_supplier(
        services_of(request), code, **body.model_dump(exclude_none=True)
    )
    return SupplierPublic.of(supplier)


@router.get("/suppliers/{code}/terms", summary="A supplier's terms", responses=documented(404))
def supplier_terms(
    request: Request, _key: Reader, code: Code, cursor: Cursor = None, limit: Limit = 100
) -> TermsListPublic:
    """A supplier's terms for every item, by SKU."""
    services = services_of(request)
    get_supplier(request, _key, code)
    found = purchasing.supplier_terms(services, code)
    page, following = paginate(found, lambda t: str(t.sku), cursor, limit)
    return TermsListPublic(data=[TermsPublic.of(t) for t in page], next_cursor=following)


@router.put("/suppliers/{code}/terms/{sku}", summary="Set terms for an item", responses=WRITE)
def set_terms(
    request: Request, _key: Admin, code: Code, sku: SkuPath, body: TermsSet
) -> TermsPublic:
    """Set a supplier's cost, MOQ, case pack and lead time for an item."""
    terms = purchasing.set_supplier_item(
        services_of(request),
        code,
        sku,
        unit_cost=body.unit_cost,
        moq=body.moq,
        case_pack=body.case_pack,
        lead_time_days=body.lead_time_days,
    )
    return TermsPublic.of(terms)


@router.get(
    "/suppliers/{code}/lead-times/{sku}",
    summary="Observed lead times",
    responses=documented(404),
)
def lead_times(request: Request, _key: Reader, code: Code, sku: SkuPath) -> LeadTimesPublic:
    """Every lead time observed for an item from a supplier (days, oldest first)."""
    days: list[Decimal] = purchasing.lead_times(services_of(request), code, sku)
    return LeadTimesPublic(supplier=code, sku=sku, days=days)


def _status(text: str | None) -> PoStatus | None:
    if text is None:
        return None
    try:
        return PoStatus(text)
    except ValueError:
        raise InvalidInput(
            f"status must be one of {', '.join(s.value for s in PoStatus)}"
        ) from None


@router.get("/purchase-orders", summary="List purchase orders")
def list_pos(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    status: Annotated[str | None, Query(description="draft, open, received...")] = None,
    supplier: Annotated[str | None, Query(max_length=100)] = None,
) -> PosPublic:
    """Purchase orders, newest first."""
    found = purchasing.list_pos(services_of(request), status=_status(status), limit=WINDOW)
    rows = [po for po in found if supplier is None or po.supplier == supplier]
    page, following = paginate(rows, lambda po: -po.id, cursor, limit)
    return PosPublic(data=[PoPublic.of(po) for po in page], next_cursor=following)


@router.post("/purchase-orders", status_code=201, summary="Draft a purchase order", responses=WRITE)
def create_po(request: Request, key: Operator, body: PoCreate) -> PoPublic:
    """Draft a purchase order (costs default to the supplier's terms)."""
    quantities: dict[str, int] = {}
    costs: dict[str, Decimal] = {}
    for line in body.lines:
        if line.sku in quantities:
            raise InvalidInput(f"{line.sku} is given twice: one line per SKU")
        quantities[line.sku] = line.quantity
        if line.unit_cost is not None:
            costs[line.sku] = line.unit_cost
    drafted = purchasing.create_po(
        services_of(request),
        body.supplier,
        body.location,
        quantities,
        actor=Actor(key.actor, body.reference),
        costs=dict(costs),
        expected_at=body.expected_at,
    )
    return PoPublic.of(drafted.po, drafted.warnings)


@router.get("/purchase-orders/{po_id}", summary="Get a purchase order", responses=documented(404))
def get_po(request: Request, _key: Reader, po_id: PoId) -> PoPublic:
    """One purchase order with its lines."""
    return PoPublic.of(purchasing.get_po(services_of(request), po_id))


@router.patch("/purchase-orders/{po_id}", summary="Change the expected date", responses=WRITE)
def update_po(request: Request, _key: Operator, po_id: PoId, body: PoUpdate) -> PoPublic:
    """Change the date a purchase order is expected."""
    return PoPublic.of(purchasing.set_expected(services_of(request), po_id, body.expected_at))


@router.post("/purchase-orders/{po_id}/open", summary="Send a draft", responses=WRITE)
def open_po(request: Request, key: Operator, po_id: PoId, body: PoOpen) -> PoPublic:
    """Send a draft: its units become incoming at the destination."""
    po = purchasing.open_po(
        services_of(request), po_id, actor=Actor(key.actor), expected_at=body.expected_at
    )
    return PoPublic.of(po)


@router.post("/purchase-orders/{po_id}/receive", summary="Receive units", responses=WRITE)
def receive_po(request: Request, key: Operator, po_id: PoId, body: PoReceipt) -> PoPublic:
    """Receive a purchase order, whole or by line; over-receipt is kept."""
    quantities: dict[str, int] | None = None
    costs: dict[str, Decimal] = {}
    if body.lines is not None:
        quantities = {}
        for line in body.lines:
            if line.sku in quantities:
                raise InvalidInput(f"{line.sku} is given twice: one line per SKU")
            quantities[line.sku] = line.quantity
            if line.landed_cost is not None:
                costs[line.sku] = line.landed_cost
    po = purchasing.receive_po(
        services_of(request), po_id, quantities, actor=Actor(key.actor), costs=dict(costs)
    )
    return PoPublic.of(po)


@router.post("/purchase-orders/{po_id}/close", summary="Close a purchase order", responses=WRITE)
def close_po(request: Request, key: Operator, po_id: PoId) -> PoPublic:
    """Expect no more: what is outstanding stops being incoming."""
    return PoPublic.of(purchasing.close_po(services_of(request), po_id, actor=Actor(key.actor)))


@router.post("/purchase-orders/{po_id}/cancel", summary="Cancel a purchase order", responses=WRITE)
def cancel_po(request: Request, key: Operator, po_id: PoId) -> PoPublic:
    """Cancel a purchase order; units already received stay on the shelf."""
    return PoPublic.of(purchasing.cancel_po(services_of(request), po_id, actor=Actor(key.actor)))
