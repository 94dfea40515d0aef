"""Use cases of the catalog: create, update and archive items and locations."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from stockpool.domain.catalog import (
    Item,
    Location,
    require_code,
    require_location_kind,
    require_money,
    require_sku,
    require_title,
)
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.services.channels import commit_config_change
from stockpool.services.context import Services
from stockpool.services.ports import Page


def _tags(tags: list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    cleaned = tuple(dict.fromkeys(t.strip() for t in tags or () if t.strip()))
    if any(len(t) > 100 for t in cleaned):
        raise InvalidInput("a tag may have at most 100 characters")
    return cleaned


def add_item(
    app: Services,
    sku: str,
    title: str,
    *,
    barcode: str | None = None,
    unit_cost: str | Decimal | None = None,
    price: str | Decimal | None = None,
    tags: list[str] | tuple[str, ...] | None = None,
) -> Item:
    """Create an item. SKUs are unique and case-sensitive."""
    item = Item(
        sku=require_sku(sku),
        title=require_title(title),
        barcode=(barcode or "").strip() or None,
        unit_cost=require_money(unit_cost, what="unit cost"),
        price=require_money(price, what="price"),
        tags=_tags(tags),
    )
    with app.uow() as uow:
        uow.catalog.add_item(item, at=app.clock())
        uow.commit()
    return item


def update_item(app: Services, sku: str, **changes: Any) -> Item:
    """Change title, barcode, unit_cost, price or tags of an item (None leaves a field)."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "title":
            values[name] = require_title(value)
        elif name in ("unit_cost", "price"):
            values[name] = require_money(value, what=name.replace("_", " "))
        elif name == "tags":
            values[name] = _tags(value)
        elif name == "barcode":
            values[name] = value.strip() or None
        else:
            raise InvalidInput(f"an item has no field {name!r} that can be changed")
    with app.uow() as uow:
        item = uow.catalog.update_item(Sku(sku), values, at=app.clock())
        if "tags" in values:  # tag rules may now apply or stop applying to its listings
            commit_config_change(uow, app, [Sku(sku)])
        else:
            uow.commit()
    return item


def set_item_archived(app: Services, sku: str, *, archived: bool) -> Item:
    """Archive an item (hidden from lists and new work; its history stays) or restore it."""
    with app.uow() as uow:
        now = app.clock()
        item = uow.catalog.update_item(Sku(sku), {"archived_at": now if archived else None}, at=now)
        uow.commit()
    return item


def get_item(app: Services, sku: str) -> Item:
    """One item."""
    with app.uow() as uow:
        return uow.catalog.get_item(Sku(sku))


def list_items(
    app: Services,
    *,
    include_archived: bool = False,
    after: str | None = None,
    limit: int = 100,
    tag: str | None = None,
) -> Page[Item]:
    """A page of items in SKU order."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    with app.uow() as uow:
        return uow.catalog.list_items(
            include_archived=include_archived, after=after, limit=limit, tag=tag
        )


def add_location(
    app: Services,
    code: str,
    name: str,
    kind: str,
    *,
    zone: str | None = None,
    priority: int = 100,
) -> Location:
    """Create a location."""
    location = Location(
        code=LocationCode(require_code(code)),
        name=require_title(name, what="name"),
        kind=require_location_kind(kind),
        zone=(zone or "").strip() or None,
        priority=_priority(priority),
    )
    with app.uow() as uow:
        uow.catalog.add_location(location, at=app.clock())
        uow.channels.bump_config()  # locations are configuration: sourcing reads them
        uow.commit()
    return location


def _priority(priority: int) -> int:
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= 10_000:
        raise InvalidInput(f"priority must be a whole number from 0 to 10000, got {priority!r}")
    return priority


def update_location(app: Services, code: str, **changes: Any) -> Location:
    """Change name, kind, zone or priority of a location (None leaves a field)."""
    values: dict[str, Any] = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "name":
            values[name] = require_title(value, what="name")
        elif name == "kind":
            values[name] = require_location_kind(value).value
        elif name == "zone":
            values[name] = value.strip() or None
        elif name == "priority":
            values[name] = _priority(value)
        else:
            raise InvalidInput(f"a location has no field {name!r} that can be changed")
    with app.uow() as uow:
        location = uow.catalog.update_location(LocationCode(code), values, at=app.clock())
        uow.channels.bump_config()
        uow.commit()
    return location


def set_location_archived(app: Services, code: str, *, archived: bool) -> Location:
    """Archive a location or restore it."""
    with app.uow() as uow:
        now = app.clock()
        location = uow.catalog.update_location(
            LocationCode(code), {"archived_at": now if archived else None}, at=now
        )
        uow.channels.bump_config()
        uow.commit()
    return location


def list_locations(app: Services, *, include_archived: bool = False) -> list[Location]:
    """All locations by priority."""
    with app.uow() as uow:
        return uow.catalog.list_locations(include_archived=include_archived)
