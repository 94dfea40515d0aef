"""Use cases of CSV import: items, locations, stock levels, purchase orders, Shopify.

Every import reads the whole file first and reports every bad row (row number, column,
reason). A file with any bad row changes nothing unless `skip_bad_rows` is set, in which
case the good rows are imported and the bad ones returned. Each import is one unit of
work: it commits whole or not at all.

Stock levels (and Shopify's figures) set on_hand per item and location. They are written
through the stock store's bulk path, which locks the levels in (SKU, location) order and
refuses to take on_hand below the units committed or unavailable there: such a row is a
bad row too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

from stockpool.domain.catalog import (
    SKU_MAX_LENGTH,
    Item,
    Location,
    LocationKind,
    require_code,
    require_sku,
)
from stockpool.domain.csv_formats import (
    BadRows,
    CsvTable,
    RowError,
    check_cell,
    check_unique,
    decode,
    read_table,
)
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import MovementKind
from stockpool.domain.quantities import parse_units
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork
from stockpool.services.row_formats import item_changes, location_from_cells
from stockpool.services.shopify_inventory import read_shopify
from stockpool.services.stock import Actor, commit_stock_change

Progress = Callable[[int, int], None]
"""Told (rows done, rows in all) as an import advances."""

WRITE_CHUNK = 10_000


def _no_progress(done: int, total: int) -> None:
    del done, total


@dataclass(frozen=True)
class ImportReport:
    """What an import did.

    Attributes:
        rows: data rows in the file.
        imported: rows written (created, updated or set).
        unchanged: good rows that changed nothing.
        skipped: the bad rows left out (only with skip_bad_rows).
    """

    rows: int
    imported: int
    unchanged: int = 0
    skipped: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class OnHandTarget:
    """A figure to set: on_hand, or (Shopify's Available only) available."""

    row: int
    sku: Sku
    location: LocationCode
    quantity: int
    column: str
    available_only: bool = False


def finish_rows(errors: list[RowError], *, rows: int, skip_bad_rows: bool) -> list[RowError]:
    """The bad rows in file order; raises BadRows if there are any and none may be skipped."""
    ordered = sorted(errors, key=lambda e: (e.row, e.column))
    if ordered and not skip_bad_rows:
        raise BadRows(ordered, rows=rows)
    return ordered


def _table(data: bytes, name: str, required: Sequence[str]) -> CsvTable:
    return read_table(decode(data, name=name), name=name, required=required)


def _known(
    uow: UnitOfWork, targets: list[OnHandTarget], errors: list[RowError]
) -> list[OnHandTarget]:
    skus = uow.stock.existing_items({t.sku for t in targets})
    good = []
    for target in targets:
        if target.sku in skus:
            good.append(target)
        else:
            errors.append(RowError(target.row, "sku", f"unknown SKU {target.sku!r}"))
    return good


def set_on_hand(
    uow: UnitOfWork,
    app: Services,
    targets: list[OnHandTarget],
    *,
    errors: list[RowError],
    rows: int,
    skip_bad_rows: bool,
    actor: Actor,
    progress: Progress,
) -> ImportReport:
    """Set on_hand at many levels through the bulk path (see the module docstring)."""
    targets = _known(uow, targets, errors)
    if errors and not skip_bad_rows:
        raise BadRows(sorted(errors, key=lambda e: e.row), rows=rows)
    states = uow.stock.lock_levels([(t.sku, t.location) for t in targets])
    changes = []
    unchanged = 0
    for t in targets:
        state = states[(t.sku, t.location)]
        floor = state.committed + state.unavailable_total
        wanted = t.quantity + floor if t.available_only else t.quantity
        if wanted < floor:
            errors.append(
                RowError(
                    t.row,
                    t.column,
                    f"{wanted} is below the {floor} units committed or unavailable at {t.location}",
                )
            )
        elif wanted != state.on_hand:
            changes.append((t.sku, t.location, wanted - state.on_hand))
        else:
            unchanged += 1
    skipped = finish_rows(errors, rows=rows, skip_bad_rows=skip_bad_rows)
    changes.sort()
    for start in range(0, len(changes), WRITE_CHUNK):
        uow.stock.apply_on_hand_bulk(
            changes[start : start + WRITE_CHUNK],
            kind=MovementKind.COUNT,
            reason=f"import {actor.reference}".strip(),
            actor=actor.name,
            reference=actor.reference,
            at=app.clock(),
        )
        progress(rows // 2 + (start + WRITE_CHUNK) * (rows - rows // 2) // len(changes), rows)
    commit_stock_change(uow, app)
    progress(rows, rows)
    return ImportReport(rows, len(changes), unchanged, skipped)


def import_stock(
    app: Services,
    data: bytes,
    *,
    name: str,
    actor: Actor,
    skip_bad_rows: bool = False,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Set on_hand from a file with the columns sku, location, on_hand."""
    table = _table(data, name, ("sku", "location", "on hand"))
    rows = len(table.rows) + len(table.errors)
    errors = list(table.errors)
    seen: dict[tuple[str, ...], int] = {}
    targets = []
    units = partial(parse_units, what="on_hand", allow_zero=True)
    for number, cells in table.rows:
        text, amount, code = cells["sku"], cells["on hand"], cells["location"]
        # The common case is checked inline: 100,000 rows make per-cell calls count.
        sku: Sku | None = Sku(text)
        if not (
            text and text.isprintable() and text == text.strip() and len(text) <= SKU_MAX_LENGTH
        ):
            sku = check_cell(errors, number, "sku", require_sku, text)
        quantity: int | None = int(amount) if amount.isdigit() and amount.isascii() else None
        if quantity is None:
            quantity = check_cell(errors, number, "on_hand", units, amount)
        if sku is None or quantity is None or not check_unique(errors, seen, number, (sku, code)):
            continue
        targets.append(OnHandTarget(number, sku, LocationCode(code), quantity, "on_hand"))
    progress(rows // 2, rows)
    with app.uow() as uow:
        known = {loc.code for loc in uow.catalog.list_locations(include_archived=True)}
        good = []
        for t in targets:
            if t.location in known:
                good.append(t)
            else:
                errors.append(RowError(t.row, "location", f"unknown location {t.location!r}"))
        return set_on_hand(
            uow,
            app,
            good,
            errors=errors,
            rows=rows,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            progress=progress,
        )


def _location_code(name: str, taken: set[str]) -> str:
    base = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "-" for ch in name)
    base = "-".join(part for part in base.split("-") if part)[:44] or "LOC"
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}-{n}"
    taken.add(code)
    return require_code(code)


def _shopify_locations(
    uow: UnitOfWork, app: Services, names: set[str], *, create: bool
) -> dict[str, LocationCode]:
    existing = uow.catalog.list_locations(include_archived=True)
    by_name = {loc.name: loc.code for loc in existing}
    by_folded = {loc.name.casefold(): loc.code for loc in existing}
    taken = {str(loc.code) for loc in existing}
    found: dict[str, LocationCode] = {}
    for name in sorted(names):
        code = by_name.get(name) or by_folded.get(name.casefold())
        if code is None and create:
            code = LocationCode(_location_code(name, taken))
            uow.catalog.add_location(
                Location(code, name[:500], LocationKind.WAREHOUSE), at=app.clock()
            )
        if code is not None:
            found[name] = code
    return found


def import_shopify_inventory(
    app: Services,
    data: bytes,
    *,
    name: str,
    actor: Actor,
    skip_bad_rows: bool = False,
    create_locations: bool = False,
    progress: Progress = _no_progress,
) -> ImportReport:
    """Set on_hand per location from Shopify's inventory CSV export (see shopify_inventory).

    With an "Available only" export the figure is Shopify's available: on_hand is set so
    that available here equals it (committed and unavailable units stay as they are).
    """
    table = read_table(decode(data, name=name), name=name, required=())
    figures, errors = read_shopify(table)
    rows = len(table.rows) + len(table.errors)
    progress(rows // 2, rows)
    with app.uow() as uow:
        places = _shopify_locations(
            uow, app, {f.location for f in figures}, create=create_locations
        )
        targets = []
        for f in figures:
            code = places.get(f.location)
            if code is None:
                reason = f"no location named {f.location!r} (add it, or pass --create-locations)"
                errors.append(RowError(f.row, "Location", reason))
                continue
            targets.append(OnHandTarget(f.row, f.sku, code, f.quantity, f.column, f.available_only))
        return set_on_hand(
            uow,
            app,
            targets,
            errors=errors,
            rows=rows,
            skip_bad_rows=skip_bad_rows,
            actor=actor,
            progress=progress,
        )


def import_items(
    app: Services, data: bytes, *, name: str, skip_bad_rows: bool = False
) -> ImportReport:
    """Create or update items from sku, title[, barcode, unit_cost, price, tags]."""
    table = _table(data, name, ("sku", "title"))
    rows = len(table.rows) + len(table.errors)
    errors = list(table.errors)
    seen: dict[tuple[str, ...], int] = {}
    parsed: list[tuple[int, Item]] = []
    for number, cells in table.rows:
        item = item_changes(errors, number, cells)
        if item is not None and check_unique(errors, seen, number, (item.sku,)):
            parsed.append((number, item))
    skipped = finish_rows(errors, rows=rows, skip_bad_rows=skip_bad_rows)
    with app.uow() as uow:
        existing = uow.stock.existing_items({item.sku for _, item in parsed})
        now = app.clock()
        for _, item in parsed:
            if item.sku in existing:
                changes: dict[str, object] = {
                    "title": item.title,
                    "barcode": item.barcode,
                    "tags": item.tags,
                }
                if table.has("unit_cost"):
                    changes["unit_cost"] = item.unit_cost
                if table.has("price"):
                    changes["price"] = item.price
                uow.catalog.update_item(item.sku, changes, at=now)
            else:
                uow.catalog.add_item(item, at=now)
        uow.commit()
    return ImportReport(rows, len(parsed), 0, skipped)


def import_locations(
    app: Services, data: bytes, *, name: str, skip_bad_rows: bool = False
) -> ImportReport:
    """Create or update locations from code, name, kind[, zone, priority]."""
    table = _table(data, name, ("code", "name", "kind"))
    rows = len(table.rows) + len(table.errors)
    errors = list(table.errors)
    seen: dict[tuple[str, ...], int] = {}
    parsed: list[Location] = []
    for number, cells in table.rows:
        location = location_from_cells(errors, number, cells)
        if location is not None and check_unique(errors, seen, number, (location.code,)):
            parsed.append(location)
    skipped = finish_rows(errors, rows=rows, skip_bad_rows=skip_bad_rows)
    with app.uow() as uow:
        existing = {loc.code for loc in uow.catalog.list_locations(include_archived=True)}
        now = app.clock()
        for loc in parsed:
            if loc.code in existing:
                changes = {"name": loc.name, "kind": loc.kind.value, "zone": loc.zone}
                uow.catalog.update_location(loc.code, {**changes, "priority": loc.priority}, at=now)
            else:
                uow.catalog.add_location(loc, at=now)
        uow.commit()
    return ImportReport(rows, len(parsed), 0, skipped)
