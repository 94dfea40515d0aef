"""Commands for items and locations."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, out, state
from stockpool.domain.catalog import Item, Location
from stockpool.services import catalog

item_app = typer.Typer(help="Items (SKUs): add, update, archive, list.", no_args_is_help=True)
location_app = typer.Typer(help="Locations: add, update, archive, list.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Tags = Annotated[list[str] | None, typer.Option("--tag", help="A tag (repeat for several).")]


def item_json(item: Item) -> dict[str, object]:
    """An item as JSON."""
    return {
        "sku": item.sku,
        "title": item.title,
        "barcode": item.barcode,
        "unit_cost": None if item.unit_cost is None else str(item.unit_cost),
        "price": None if item.price is None else str(item.price),
        "tags": list(item.tags),
        "archived": item.archived_at is not None,
    }


def location_json(location: Location) -> dict[str, object]:
    """A location as JSON."""
    return {
        "code": location.code,
        "name": location.name,
        "kind": location.kind.value,
        "zone": location.zone,
        "priority": location.priority,
        "archived": location.archived_at is not None,
    }


@item_app.command("add")
def item_add(
    ctx: typer.Context,
    sku: str,
    title: Annotated[str, typer.Option("--title", help="What the item is.")],
    barcode: Annotated[str | None, typer.Option(help="GTIN / EAN / UPC.")] = None,
    unit_cost: Annotated[str | None, typer.Option("--unit-cost", help="Cost of one unit.")] = None,
    price: Annotated[str | None, typer.Option(help="Price of one unit.")] = None,
    tag: Tags = None,
) -> None:
    """Add an item. SKUs are unique and case-sensitive."""
    with errors_as_exit():
        item = catalog.add_item(
            state(ctx).services(),
            sku,
            title,
            barcode=barcode,
            unit_cost=unit_cost,
            price=price,
            tags=tag,
        )
    out.print(f"added item {item.sku}")


@item_app.command("update")
def item_update(
    ctx: typer.Context,
    sku: str,
    title: Annotated[str | None, typer.Option()] = None,
    barcode: Annotated[str | None, typer.Option()] = None,
    unit_cost: Annotated[str | None, typer.Option("--unit-cost")] = None,
    price: Annotated[str | None, typer.Option()] = None,
    tag: Tags = None,
) -> None:
    """Change an item's fields (tags given replace the old ones)."""
    with errors_as_exit():
        item = catalog.update_item(
            state(ctx).services(),
            sku,
            title=title,
            barcode=barcode,
            unit_cost=unit_cost,
            price=price,
            tags=tag,
        )
    out.print(f"updated item {item.sku}")


@item_app.command("archive")
def item_archive(
    ctx: typer.Context,
    sku: str,
    restore: Annotated[bool, typer.Option("--restore", help="Bring it back.")] = False,
) -> None:
    """Archive an item (its history stays), or restore it."""
    with errors_as_exit():
        catalog.set_item_archived(state(ctx).services(), sku, archived=not restore)
    out.print(f"{'restored' if restore else 'archived'} item {sku}")


@item_app.command("list")
def item_list(
    ctx: typer.Context,
    as_json: Json = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived.")] = False,
    tag: Annotated[str | None, typer.Option(help="Only items with this tag.")] = None,
    after: Annotated[str | None, typer.Option(help="Start after this SKU.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 1000,
) -> None:
    """List items in SKU order."""
    with errors_as_exit():
        page = catalog.list_items(
            state(ctx).services(), include_archived=archived, after=after, limit=limit, tag=tag
        )
    if as_json:
        emit_json([item_json(i) for i in page.rows])
        return
    table = Table("SKU", "title", "barcode", "unit cost", "price", "tags", "archived")
    for i in page.rows:
        table.add_row(
            i.sku,
            i.title,
            i.barcode or "",
            str(i.unit_cost or ""),
            str(i.price or ""),
            ", ".join(i.tags),
            "yes" if i.archived_at else "",
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"more: --after {page.next_cursor}")


@location_app.command("add")
def location_add(
    ctx: typer.Context,
    code: str,
    name: Annotated[str, typer.Option("--name", help="A readable name.")],
    kind: Annotated[str, typer.Option("--kind", help="warehouse, 3pl, store or channel_held.")],
    zone: Annotated[str | None, typer.Option(help="Region or zone, for sourcing.")] = None,
    priority: Annotated[int, typer.Option(help="Lower is served first.")] = 100,
) -> None:
    """Add a location."""
    with errors_as_exit():
        location = catalog.add_location(
            state(ctx).services(), code, name, kind, zone=zone, priority=priority
        )
    out.print(f"added location {location.code}")


@location_app.command("update")
def location_update(
    ctx: typer.Context,
    code: str,
    name: Annotated[str | None, typer.Option()] = None,
    kind: Annotated[str | None, typer.Option()] = None,
    zone: Annotated[str | None, typer.Option()] = None,
    priority: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Change a location's fields."""
    with errors_as_exit():
        catalog.update_location(
            state(ctx).services(), code, name=name, kind=kind, zone=zone, priority=priority
        )
    out.print(f"updated location {code}")


@location_app.command("archive")
def location_archive(
    ctx: typer.Context,
    code: str,
    restore: Annotated[bool, typer.Option("--restore", help="Bring it back.")] = False,
) -> None:
    """Archive a location, or restore it."""
    with errors_as_exit():
        catalog.set_location_archived(state(ctx).services(), code, archived=not restore)
    out.print(f"{'restored' if restore else 'archived'} location {code}")


@location_app.command("list")
def location_list(
    ctx: typer.Context,
    as_json: Json = False,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived.")] = False,
) -> None:
    """List locations by priority."""
    with errors_as_exit():
        rows = catalog.list_locations(state(ctx).services(), include_archived=archived)
    if as_json:
        emit_json([location_json(loc) for loc in rows])
        return
    table = Table("code", "name", "kind", "zone", "priority", "archived")
    for loc in rows:
        table.add_row(
            loc.code,
            loc.name,
            loc.kind.value,
            loc.zone or "",
            str(loc.priority),
            "yes" if loc.archived_at else "",
        )
    out.print(table)
