"""Suppliers, their terms per item, and purchase orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, StrictInt

from stockpool.api.schemas.common import Code, Input, Money, Output, Sku, Units
from stockpool.domain.purchasing import PurchaseOrder, Supplier, SupplierItem

Name = Annotated[str, Field(min_length=1, max_length=500)]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["USD"])]
Days = Annotated[StrictInt, Field(ge=0, le=3650)]


class SupplierCreate(Input):
    """A new supplier."""

    code: Code
    name: Name
    currency: Currency = "USD"
    lead_time_days: Days = 14


class SupplierUpdate(Input):
    """Fields of a supplier to change."""

    name: Name | None = None
    currency: Currency | None = None
    lead_time_days: Days | None = None


class SupplierPublic(Output):
    """A supplier."""

    code: str
    name: str
    currency: str
    lead_time_days: int

    @classmethod
    def of(cls, s: Supplier) -> SupplierPublic:
        """From the domain record."""
        return cls(code=s.code, name=s.name, currency=s.currency, lead_time_days=s.lead_time_days)


class SuppliersPublic(Output):
    """A page of suppliers by code."""

    data: list[SupplierPublic]
    next_cursor: str | None


class TermsSet(Input):
    """A supplier's terms for one item."""

    unit_cost: Money
    moq: Units = 1
    case_pack: Units = 1
    lead_time_days: Days | None = None


class TermsPublic(Output):
    """A supplier's terms for one item."""

    supplier: str
    sku: str
    unit_cost: Decimal
    moq: int
    case_pack: int
    lead_time_days: int | None

    @classmethod
    def of(cls, t: SupplierItem) -> TermsPublic:
        """From the domain record."""
        return cls(
            supplier=t.supplier,
            sku=t.sku,
            unit_cost=t.unit_cost,
            moq=t.moq,
            case_pack=t.case_pack,
            lead_time_days=t.lead_time_days,
        )


class TermsListPublic(Output):
    """A page of a supplier's terms by SKU."""

    data: list[TermsPublic]
    next_cursor: str | None


class LeadTimesPublic(Output):
    """Every lead time observed for an item from a supplier, in days, oldest first."""

    supplier: str
    sku: str
    days: list[Decimal]


class PoLineCreate(Input):
    """One line of a purchase order (cost defaults to the supplier's terms)."""

    sku: Sku
    quantity: Units
    unit_cost: Money | None = None


class PoCreate(Input):
    """A draft purchase order."""

    supplier: Code
    location: Code
    lines: Annotated[list[PoLineCreate], Field(min_length=1, max_length=1000)]
    expected_at: AwareDatetime | None = None
    reference: Annotated[str, Field(max_length=500)] = ""


class PoOpen(Input):
    """Send a draft (with an expected date, else the longest lead time applies)."""

    expected_at: AwareDatetime | None = None


class PoUpdate(Input):
    """Change the date a purchase order is expected."""

    expected_at: AwareDatetime


class PoReceiptLine(Input):
    """Units received of one item, at a landed cost if it differs."""

    sku: Sku
    quantity: Units
    landed_cost: Money | None = None


class PoReceipt(Input):
    """A receipt (all outstanding units when `lines` is absent)."""

    lines: Annotated[list[PoReceiptLine], Field(min_length=1, max_length=1000)] | None = None


class PoLinePublic(Output):
    """One line of a purchase order."""

    sku: str
    quantity: int
    unit_cost: Decimal
    received: int
    outstanding: int


class PoPublic(Output):
    """A purchase order with its lines."""

    id: int
    supplier: str
    location: str
    status: str
    reference: str
    created_at: datetime
    opened_at: datetime | None
    expected_at: datetime | None
    lines: list[PoLinePublic]
    warnings: list[str] = []

    @classmethod
    def of(cls, po: PurchaseOrder, warnings: list[str] | None = None) -> PoPublic:
        """From the domain record."""
        return cls(
            id=po.id,
            supplier=po.supplier,
            location=po.destination,
            status=po.status.value,
            reference=po.reference,
            created_at=po.created_at,
            opened_at=po.opened_at,
            expected_at=po.expected_at,
            lines=[
                PoLinePublic(
                    sku=x.sku,
                    quantity=x.quantity,
                    unit_cost=x.unit_cost,
                    received=x.received,
                    outstanding=x.outstanding,
                )
                for x in po.lines
            ],
            warnings=warnings or [],
        )


class PosPublic(Output):
    """A page of purchase orders, newest first."""

    data: list[PoPublic]
    next_cursor: str | None
