"""Import of purchase orders from CSV: one row per line, grouped into orders by `po`.

Every order of the file is created as a draft (`stockpool po open` sends it), with the
file's `po` value as its reference. All rows of one order must name the same supplier,
location and expected date; a line without unit_cost takes the supplier's terms.
"""

from __future__ import annotations

from itertools import groupby

from stockpool.domain.csv_formats import RowError, check_unique, decode, read_table
from stockpool.domain.errors import StockpoolError
from stockpool.domain.purchasing import PoLine, SupplierCode
from stockpool.services.context import Services
from stockpool.services.imports import ImportReport, finish_rows
from stockpool.services.ports import UnitOfWork
from stockpool.services.row_formats import PoRow, po_row
from stockpool.services.stock import Actor

REQUIRED = ("po", "supplier", "location", "sku", "quantity")


def _consistent(group: list[PoRow], errors: list[RowError]) -> bool:
    first = group[0]
    fine = True
    for row in group[1:]:
        for column in ("supplier", "location", "expected_at"):
            if getattr(row, column) != getattr(first, column):
                errors.append(
                    RowError(row.row, column, f"differs from row {first.row} of PO {first.po}")
                )
                fine = False
    return fine


def _lines(uow: UnitOfWork, group: list[PoRow], errors: list[RowError]) -> list[PoLine] | None:
    first = group[0]
    try:
        supplier = uow.purchasing.get_supplier(SupplierCode(first.supplier)).code
        uow.catalog.get_location(first.location)
    except StockpoolError as exc:
        errors.append(RowError(first.row, "supplier/location", str(exc)))
        return None
    known = uow.stock.existing_items({r.sku for r in group})
    lines = []
    for row in group:
        if row.sku not in known:
            errors.append(RowError(row.row, "sku", f"unknown SKU {row.sku!r}"))
            continue
        cost = row.unit_cost
        if cost is None:
            terms = uow.purchasing.list_terms(supplier, row.sku)
            if not terms:
                errors.append(RowError(row.row, "unit_cost", "is empty and no terms are set"))
                continue
            cost = terms[0].unit_cost
        lines.append(PoLine(row.sku, row.quantity, cost))
    return lines if len(lines) == len(group) else None


def import_purchase_orders(
    app: Services, data: bytes, *, name: str, actor: Actor, skip_bad_rows: bool = False
) -> ImportReport:
    """Create draft purchase orders from a file (see the module docstring)."""
    table = read_table(decode(data, name=name), name=name, required=REQUIRED)
    rows = len(table.rows) + len(table.errors)
    errors = list(table.errors)
    seen: dict[tuple[str, ...], int] = {}
    parsed = []
    for number, cells in table.rows:
        row = po_row(errors, number, cells)
        if row is not None and check_unique(errors, seen, number, (row.po, row.sku)):
            parsed.append(row)
    created = 0
    with app.uow() as uow:
        orders = []
        for _, rows_of_po in groupby(sorted(parsed, key=lambda r: (r.po, r.row)), lambda r: r.po):
            group = list(rows_of_po)
            lines = _lines(uow, group, errors) if _consistent(group, errors) else None
            if lines is not None:
                orders.append((group[0], lines))
        skipped = finish_rows(errors, rows=rows, skip_bad_rows=skip_bad_rows)
        for head, lines in orders:
            uow.purchasing.create_po(
                SupplierCode(head.supplier),
                head.location,
                lines,
                reference=head.po,
                actor=actor.name,
                at=app.clock(),
                expected_at=head.expected_at,
            )
            created += len(lines)
        uow.commit()
    return ImportReport(rows, created, 0, skipped)
