"""Items and locations in the database."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from stockpool.domain.catalog import Item, Location, LocationKind
from stockpool.domain.errors import AlreadyExists, NotFound
from stockpool.domain.ids import LocationCode, Sku
from stockpool.services.ports import Page
from stockpool.store.tables import items, locations

ITEM_FIELDS = ("title", "barcode", "unit_cost", "price", "tags", "archived_at")
LOCATION_FIELDS = ("name", "kind", "zone", "priority", "archived_at")


def item_from_row(row: Row[Any]) -> Item:
    """Map an `items` row to the domain record."""
    return Item(
        sku=Sku(row.sku),
        title=row.title,
        barcode=row.barcode,
        unit_cost=row.unit_cost,
        price=row.price,
        tags=tuple(row.tags),
        archived_at=row.archived_at,
    )


def location_from_row(row: Row[Any]) -> Location:
    """Map a `locations` row to the domain record."""
    return Location(
        code=LocationCode(row.code),
        name=row.name,
        kind=LocationKind(row.kind),
        zone=row.zone,
        priority=row.priority,
        archived_at=row.archived_at,
    )


class SqlCatalog:
    """Catalog repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add_item(self, item: Item, *, at: datetime) -> None:
        """Insert a new item; AlreadyExists if the SKU is taken (case-sensitive)."""
        if self._c.execute(select(items.c.id).where(items.c.sku == item.sku)).first():
            raise AlreadyExists(f"an item with SKU {item.sku!r} exists already")
        values = {f: getattr(item, f) for f in ITEM_FIELDS}
        values["tags"] = list(item.tags)
        try:
            self._c.execute(
                insert(items).values(sku=item.sku, created_at=at, updated_at=at, **values)
            )
        except IntegrityError:
            raise AlreadyExists(f"an item with SKU {item.sku!r} exists already") from None

    def update_item(self, sku: Sku, changes: Mapping[str, Any], *, at: datetime) -> Item:
        """Change some fields of an item and return it as it now is."""
        values = {k: (list(v) if k == "tags" else v) for k, v in changes.items()}
        result = self._c.execute(
            update(items).where(items.c.sku == sku).values(updated_at=at, **values)
        )
        if result.rowcount != 1:
            raise NotFound(f"unknown SKU {sku!r}")
        return self.get_item(sku)

    def lock_item(self, sku: Sku) -> None:
        """Hold the item's row until the end of the transaction (PostgreSQL; SQLite
        transactions already hold the write lock), so read-modify-writes of it queue."""
        query = select(items.c.id).where(items.c.sku == sku)
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        if self._c.execute(query).first() is None:
            raise NotFound(f"unknown SKU {sku!r}: add it with `stockpool item add`")

    def get_item(self, sku: Sku) -> Item:
        """One item by SKU, or NotFound."""
        row = self._c.execute(select(items).where(items.c.sku == sku)).first()
        if row is None:
            raise NotFound(f"unknown SKU {sku!r}: add it with `stockpool item add`")
        return item_from_row(row)

    def list_items(
        self, *, include_archived: bool, after: str | None, limit: int, tag: str | None = None
    ) -> Page[Item]:
        """Items in SKU order, one page at a time (`after` is the last SKU seen)."""
        query = select(items).order_by(items.c.sku)
        if not include_archived:
            query = query.where(items.c.archived_at.is_(None))
        if after is not None:
            query = query.where(items.c.sku > after)
        rows = [
            item_from_row(r)
            for r in self._c.execute(query.limit(limit + 1 if tag is None else None))
        ]
        if tag is not None:
            rows = [r for r in rows if tag in r.tags]
        page = rows[:limit]
        more = len(rows) > limit
        return Page(page, page[-1].sku if more and page else None)

    def add_location(self, location: Location, *, at: datetime) -> None:
        """Insert a new location; AlreadyExists if the code is taken."""
        if self._c.execute(select(locations.c.id).where(locations.c.code == location.code)).first():
            raise AlreadyExists(f"a location with code {location.code!r} exists already")
        values = {f: getattr(location, f) for f in LOCATION_FIELDS}
        values["kind"] = location.kind.value
        self._c.execute(
            insert(locations).values(code=location.code, created_at=at, updated_at=at, **values)
        )

    def update_location(
        self, code: LocationCode, changes: Mapping[str, Any], *, at: datetime
    ) -> Location:
        """Change some fields of a location and return it as it now is."""
        result = self._c.execute(
            update(locations).where(locations.c.code == code).values(updated_at=at, **changes)
        )
        if result.rowcount != 1:
            raise NotFound(f"unknown location {code!r}")
        return self.get_location(code)

    def get_location(self, code: LocationCode) -> Location:
        """One location by code, or NotFound."""
        row = self._c.execute(select(locations).where(locations.c.code == code)).first()
        if row is None:
            raise NotFound(f"unknown location {code!r}: add it with `stockpool location add`")
        return location_from_row(row)

    def list_locations(self, *, include_archived: bool) -> list[Location]:
        """All locations, by priority then code."""
        query = select(locations).order_by(locations.c.priority, locations.c.code)
        if not include_archived:
            query = query.where(locations.c.archived_at.is_(None))
        return [location_from_row(r) for r in self._c.execute(query)]
