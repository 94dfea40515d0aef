"""Use cases of CSV export: items, locations, stock levels and purchase orders.

Exports are spreadsheet-safe (see `domain.csv_formats.write_table`) and use the columns
of the generic import formats (see `services.row_formats`), so an edited export can be
imported again. Read-only figures (committed, available, received...) come after them.
"""

from __future__ import annotations

from collections.abc import Iterator

from stockpool.domain.csv_formats import write_table
from stockpool.domain.quantities import UnavailableReason
from stockpool.services.context import Services
from stockpool.services.row_formats import TAG_SEPARATOR

EXPORT_KINDS = ("items", "locations", "stock", "purchase-orders")
PAGE = 5000


def export_items(app: Services) -> str:
    """Every item (archived ones too), by SKU."""
    header = ("sku", "title", "barcode", "unit_cost", "price", "tags", "archived")

    def rows() -> Iterator[tuple[object, ...]]:
        after = None
        while True:
            with app.uow() as uow:
                page = uow.catalog.list_items(include_archived=True, after=after, limit=PAGE)
            for i in page.rows:
                tags = TAG_SEPARATOR.join(i.tags)
                archived = "yes" if i.archived_at else ""
                yield (i.sku, i.title, i.barcode, i.unit_cost, i.price, tags, archived)
            if page.next_cursor is None:
                return
            after = page.next_cursor

    return write_table(header, rows())


def export_locations(app: Services) -> str:
    """Every location, by priority."""
    with app.uow() as uow:
        found = uow.catalog.list_locations(include_archived=True)
    header = ("code", "name", "kind", "zone", "priority")
    return write_table(header, ((x.code, x.name, x.kind.value, x.zone, x.priority) for x in found))


def export_stock(app: Services) -> str:
    """Every stock level, by SKU and location."""
    with app.uow() as uow:
        levels = uow.stock.stored_levels()
    header = (
        "sku",
        "location",
        "on_hand",
        "committed",
        *(r.value for r in UnavailableReason),
        "available",
        "incoming",
    )
    return write_table(
        header,
        (
            (
                sku,
                code,
                s.on_hand,
                s.committed,
                *(s.unavailable[r] for r in UnavailableReason),
                s.available,
                s.incoming,
            )
            for (sku, code), (s, _) in sorted(levels.items())
        ),
    )


def export_purchase_orders(app: Services) -> str:
    """Every purchase order line, oldest order first."""
    with app.uow() as uow:
        orders = sorted(uow.purchasing.list_pos(status=None, limit=10**9), key=lambda p: p.id)
    header = (
        "po",
        "supplier",
        "location",
        "sku",
        "quantity",
        "unit_cost",
        "expected",
        "id",
        "status",
        "received",
    )
    return write_table(
        header,
        (
            (
                po.reference or f"PO-{po.id}",
                po.supplier,
                po.destination,
                line.sku,
                line.quantity,
                line.unit_cost,
                po.expected_at.date().isoformat() if po.expected_at else None,
                po.id,
                po.status.value,
                line.received,
            )
            for po in orders
            for line in po.lines
        ),
    )


EXPORTERS = {
    "items": export_items,
    "locations": export_locations,
    "stock": export_stock,
    "purchase-orders": export_purchase_orders,
}
