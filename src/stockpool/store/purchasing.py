"""Suppliers, their terms, purchase orders and observed lead times in the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from stockpool.domain.errors import AlreadyExists, NotFound
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.purchasing import (
    PoLine,
    PoStatus,
    PurchaseOrder,
    Supplier,
    SupplierCode,
    SupplierItem,
)
from stockpool.store.ids import IdMap
from stockpool.store.purchasing_tables import (
    lead_times,
    purchase_order_lines,
    purchase_orders,
    supplier_items,
    suppliers,
)
from stockpool.store.tables import items, locations

SUPPLIER_FIELDS = ("name", "currency", "lead_time_days")
PO_FIELDS = frozenset({"status", "expected_at", "opened_at", "closed_at"})


def _supplier(row: Row[Any]) -> Supplier:
    return Supplier(SupplierCode(row.code), row.name, row.currency, row.lead_time_days)


class SqlPurchasing:
    """Purchasing repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection, ids: IdMap) -> None:
        self._c = connection
        self._ids = ids

    def _supplier_id(self, code: SupplierCode) -> int:
        key = self._c.execute(select(suppliers.c.id).where(suppliers.c.code == code)).scalar()
        if key is None:
            raise NotFound(f"unknown supplier {code!r}: add it with `stockpool supplier add`")
        return int(key)

    def add_supplier(self, supplier: Supplier, *, at: datetime) -> None:
        """Insert a supplier; AlreadyExists if the code is taken."""
        if self._c.execute(select(suppliers.c.id).where(suppliers.c.code == supplier.code)).first():
            raise AlreadyExists(f"a supplier with code {supplier.code!r} exists already")
        values = {f: getattr(supplier, f) for f in SUPPLIER_FIELDS}
        self._c.execute(
            insert(suppliers).values(code=supplier.code, created_at=at, updated_at=at, **values)
        )

    def update_supplier(
        self, code: SupplierCode, changes: Mapping[str, Any], *, at: datetime
    ) -> Supplier:
        """Change some fields of a supplier and return it as it now is."""
        self._supplier_id(code)
        self._c.execute(
            update(suppliers).where(suppliers.c.code == code).values(updated_at=at, **changes)
        )
        return self.get_supplier(code)

    def get_supplier(self, code: SupplierCode) -> Supplier:
        """One supplier, or NotFound."""
        row = self._c.execute(select(suppliers).where(suppliers.c.code == code)).first()
        if row is None:
            raise NotFound(f"unknown supplier {code!r}: add it with `stockpool supplier add`")
        return _supplier(row)

    def list_suppliers(self) -> list[Supplier]:
        """Every supplier by code."""
        return [_supplier(r) for r in self._c.execute(select(suppliers).order_by(suppliers.c.code))]

    def set_terms(self, terms: SupplierItem, *, at: datetime) -> None:
        """Store a supplier's terms for an item (replacing earlier ones)."""
        key = {
            "supplier_id": self._supplier_id(terms.supplier),
            "item_id": self._ids.item(terms.sku),
        }
        values = {
            "unit_cost": terms.unit_cost,
            "moq": terms.moq,
            "case_pack": terms.case_pack,
            "lead_time_days": terms.lead_time_days,
            "updated_at": at,
        }
        done = self._c.execute(
            update(supplier_items)
            .where(*(supplier_items.c[k] == v for k, v in key.items()))
            .values(**values)
        )
        if done.rowcount == 0:
            self._c.execute(insert(supplier_items).values(**key, **values))

    def list_terms(self, supplier: SupplierCode, sku: Sku | None = None) -> list[SupplierItem]:
        """A supplier's terms, for every item or one, by SKU."""
        query = (
            select(supplier_items, items.c.sku)
            .join(items, items.c.id == supplier_items.c.item_id)
            .where(supplier_items.c.supplier_id == self._supplier_id(supplier))
            .order_by(items.c.sku)
        )
        if sku is not None:
            query = query.where(items.c.sku == sku)
        return [
            SupplierItem(supplier, Sku(r.sku), r.unit_cost, r.moq, r.case_pack, r.lead_time_days)
            for r in self._c.execute(query)
        ]

    def create_po(
        self,
        supplier: SupplierCode,
        destination: LocationCode,
        lines: Sequence[PoLine],
        *,
        reference: str,
        actor: str,
        at: datetime,
        expected_at: datetime | None,
    ) -> int:
        """Insert a draft purchase order with its lines; returns its id."""
        po_id: int = self._c.execute(
            insert(purchase_orders)
            .values(
                supplier_id=self._supplier_id(supplier),
                location_id=self._ids.location(destination),
                status=PoStatus.DRAFT.value,
                reference=reference,
                actor=actor,
                created_at=at,
                expected_at=expected_at,
            )
            .returning(purchase_orders.c.id)
        ).scalar_one()
        self._c.execute(
            insert(purchase_order_lines),
            [
                {
                    "po_id": po_id,
                    "item_id": self._ids.item(line.sku),
                    "quantity": line.quantity,
                    "unit_cost": line.unit_cost,
                }
                for line in lines
            ],
        )
        return po_id

    def get_po(self, po_id: int) -> PurchaseOrder:
        """One purchase order with its lines, or NotFound."""
        found = self._load([po_id])
        if not found:
            raise NotFound(f"unknown purchase order {po_id}: see `stockpool po list`")
        return found[0]

    def lock_po(self, po_id: int) -> None:
        """Take the order's row lock so concurrent receipts of it queue."""
        query = select(purchase_orders.c.id).where(purchase_orders.c.id == po_id)
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        if self._c.execute(query).first() is None:
            raise NotFound(f"unknown purchase order {po_id}: see `stockpool po list`")

    def update_po(self, po_id: int, changes: Mapping[str, Any]) -> None:
        """Store the status and dates of an order (`PO_FIELDS`)."""
        values = {k: (v.value if isinstance(v, PoStatus) else v) for k, v in changes.items()}
        assert set(values) <= PO_FIELDS, values
        self._c.execute(
            update(purchase_orders).where(purchase_orders.c.id == po_id).values(**values)
        )

    def set_received(self, po_id: int, sku: Sku, received: int) -> None:
        """Store the units received so far on one line."""
        self._c.execute(
            update(purchase_order_lines)
            .where(
                purchase_order_lines.c.po_id == po_id,
                purchase_order_lines.c.item_id == self._ids.item(sku),
            )
            .values(received=received)
        )

    def list_pos(self, *, status: PoStatus | None, limit: int) -> list[PurchaseOrder]:
        """The newest purchase orders first, optionally of one status."""
        query = select(purchase_orders.c.id).order_by(purchase_orders.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(purchase_orders.c.status == status.value)
        ids = list(self._c.execute(query).scalars())
        return sorted(self._load(ids), key=lambda po: -po.id)

    def _load(self, ids: list[int]) -> list[PurchaseOrder]:
        head = self._c.execute(
            select(purchase_orders, suppliers.c.code.label("supplier"), locations.c.code)
            .join(suppliers, suppliers.c.id == purchase_orders.c.supplier_id)
            .join(locations, locations.c.id == purchase_orders.c.location_id)
            .where(purchase_orders.c.id.in_(ids))
        ).all()
        lines: dict[int, list[PoLine]] = {}
        for row in self._c.execute(
            select(purchase_order_lines, items.c.sku)
            .join(items, items.c.id == purchase_order_lines.c.item_id)
            .where(purchase_order_lines.c.po_id.in_(ids))
            .order_by(items.c.sku)
        ):
            lines.setdefault(row.po_id, []).append(
                PoLine(Sku(row.sku), row.quantity, row.unit_cost, row.received)
            )
        return [
            PurchaseOrder(
                id=r.id,
                supplier=SupplierCode(r.supplier),
                destination=LocationCode(r.code),
                status=PoStatus(r.status),
                lines=tuple(lines.get(r.id, [])),
                reference=r.reference,
                created_at=r.created_at,
                expected_at=r.expected_at,
                opened_at=r.opened_at,
                closed_at=r.closed_at,
            )
            for r in head
        ]

    def record_lead_time(
        self,
        po: PurchaseOrder,
        sku: Sku,
        quantity: int,
        *,
        received_at: datetime,
        days: Decimal,
    ) -> None:
        """Append the lead time one receipt observed."""
        assert po.opened_at is not None
        self._c.execute(
            insert(lead_times).values(
                supplier_id=self._supplier_id(po.supplier),
                item_id=self._ids.item(sku),
                po_id=po.id,
                quantity=quantity,
                opened_at=po.opened_at,
                received_at=received_at,
                days=days,
            )
        )

    def lead_times(self, supplier: SupplierCode, sku: Sku) -> list[Decimal]:
        """Every lead time observed for an item from a supplier, oldest first."""
        query = (
            select(lead_times.c.days)
            .where(
                lead_times.c.supplier_id == self._supplier_id(supplier),
                lead_times.c.item_id == self._ids.item(sku),
            )
            .order_by(lead_times.c.id)
        )
        return [Decimal(d) for d in self._c.execute(query).scalars()]
