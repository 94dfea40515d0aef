"""The generic CSV formats, row by row: what each column means and how it is checked.

| file            | columns (optional in brackets)                                    |
|-----------------|-------------------------------------------------------------------|
| items           | sku, title, [barcode, unit_cost, price, tags (separated by ";")]  |
| locations       | code, name, kind, [zone, priority]                                 |
| stock           | sku, location, on_hand                                            |
| purchase orders | po, supplier, location, sku, quantity, [unit_cost, expected]      |
| counts          | sku, location, counted, [counted_at]                               |

Exports write the same columns (plus read-only ones), so an export can be edited and
imported again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from stockpool.domain.catalog import (
    Item,
    Location,
    require_code,
    require_location_kind,
    require_money,
    require_sku,
    require_title,
)
from stockpool.domain.csv_formats import RowError, check_cell, parse_instant
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.quantities import parse_units

TAG_SEPARATOR = ";"


def _priority(text: str) -> int:
    value = parse_units(text, what="priority", allow_zero=True) if text else 100
    if value > 10_000:
        raise InvalidInput(f"priority must be from 0 to 10000, got {value}")
    return value


def item_changes(errors: list[RowError], row: int, cells: dict[str, str]) -> Item | None:
    """An item from one row of an items file, or None (with errors) when it is bad."""
    before = len(errors)
    sku = check_cell(errors, row, "sku", require_sku, cells["sku"])
    title = check_cell(errors, row, "title", require_title, cells["title"])
    money = {
        name: check_cell(errors, row, name, partial(require_money, what=name), cells.get(key, ""))
        for name, key in (("unit_cost", "unit cost"), ("price", "price"))
    }
    tags = tuple(t.strip() for t in cells.get("tags", "").split(TAG_SEPARATOR) if t.strip())
    if len(errors) > before or sku is None or title is None:
        return None
    barcode = cells.get("barcode", "") or None
    return Item(sku, title, barcode, money["unit_cost"], money["price"], tags)


def location_from_cells(errors: list[RowError], row: int, cells: dict[str, str]) -> Location | None:
    """A location from one row of a locations file, or None (with errors) when it is bad."""
    before = len(errors)
    code = check_cell(errors, row, "code", require_code, cells["code"])
    name = check_cell(errors, row, "name", partial(require_title, what="name"), cells["name"])
    kind = check_cell(errors, row, "kind", require_location_kind, cells["kind"])
    priority = check_cell(errors, row, "priority", _priority, cells.get("priority", ""))
    if len(errors) > before or code is None or name is None or kind is None or priority is None:
        return None
    return Location(LocationCode(code), name, kind, cells.get("zone") or None, priority)


@dataclass(frozen=True)
class PoRow:
    """One line of a purchase-order file."""

    row: int
    po: str
    supplier: str
    location: LocationCode
    sku: Sku
    quantity: int
    unit_cost: Decimal | None
    expected_at: datetime | None


def po_row(errors: list[RowError], row: int, cells: dict[str, str]) -> PoRow | None:
    """A purchase-order line from one row, or None (with errors) when it is bad."""
    before = len(errors)
    for column in ("po", "supplier", "location"):
        if not cells[column]:
            errors.append(RowError(row, column, "is empty"))
    sku = check_cell(errors, row, "sku", require_sku, cells["sku"])
    units = partial(parse_units, what="quantity")
    quantity = check_cell(errors, row, "quantity", units, cells["quantity"])
    cost = check_cell(
        errors,
        row,
        "unit_cost",
        partial(require_money, what="unit_cost"),
        cells.get("unit cost", ""),
    )
    expected = None
    if cells.get("expected"):
        expected = check_cell(errors, row, "expected", parse_instant, cells["expected"])
    if len(errors) > before or sku is None or quantity is None:
        return None
    location = LocationCode(cells["location"])
    return PoRow(row, cells["po"], cells["supplier"], location, sku, quantity, cost, expected)
