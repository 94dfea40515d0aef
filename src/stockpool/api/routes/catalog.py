"""Items and locations: read for every reader, change for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, cursor_text, next_of, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute, set_before
from stockpool.api.schemas.catalog import (
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    ItemUpdate,
    LocationCreate,
    LocationPublic,
    LocationsPublic,
    LocationUpdate,
)
from stockpool.api.security import Admin, Reader, services_of
from stockpool.domain.errors import NotFound
from stockpool.services import catalog

router = APIRouter(
    tags=["catalog"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
SkuPath = Annotated[str, Path(min_length=1, max_length=100, description="The item's SKU.")]
CodePath = Annotated[str, Path(min_length=1, max_length=100, description="The location code.")]
WRITE = documented(404, 409, 413)


@router.get("/items", summary="List items")
def list_items(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    archived: Annotated[bool, Query(description="Include archived items.")] = False,
) -> ItemsPublic:
    """Items in SKU order, optionally only those with a tag."""
    page = catalog.list_items(
        services_of(request),
        include_archived=archived,
        after=cursor_text(cursor),
        limit=limit,
        tag=tag,
    )
    return ItemsPublic(
        data=[ItemPublic.of(i) for i in page.rows], next_cursor=next_of(page.next_cursor)
    )


@router.post("/items", status_code=201, summary="Add an item", responses=WRITE)
def add_item(request: Request, _key: Admin, body: ItemCreate) -> ItemPublic:
    """Add an item. SKUs are unique and case-sensitive."""
    item = catalog.add_item(
        services_of(request),
        body.sku,
        body.title,
        barcode=body.barcode,
        unit_cost=body.unit_cost,
        price=body.price,
        tags=body.tags,
    )
    return ItemPublic.of(item)


@router.get("/items/{sku}", summary="Get an item", responses=documented(404))
def get_item(request: Request, _key: Reader, sku: SkuPath) -> ItemPublic:
    """One item."""
    return ItemPublic.of(catalog.get_item(services_of(request), sku))


@router.patch("/items/{sku}", summary="Change an item", responses=WRITE)
def update_item(request: Request, _key: Admin, sku: SkuPath, body: ItemUpdate) -> ItemPublic:
    """Change an item's fields (tags given replace the old ones)."""
    services = services_of(request)
    set_before(request, ItemPublic.of(catalog.get_item(services, sku)).model_dump(mode="json"))
    item = catalog.update_item(services, sku, **body.model_dump(exclude_none=True))
    return ItemPublic.of(item)


@router.post("/items/{sku}/archive", summary="Archive an item", responses=WRITE)
def archive_item(request: Request, _key: Admin, sku: SkuPath) -> ItemPublic:
    """Archive an item: hidden from lists and new work; its history stays."""
    return ItemPublic.of(catalog.set_item_archived(services_of(request), sku, archived=True))


@router.post("/items/{sku}/restore", summary="Restore an item", responses=WRITE)
def restore_item(request: Request, _key: Admin, sku: SkuPath) -> ItemPublic:
    """Bring an archived item back."""
    return ItemPublic.of(catalog.set_item_archived(services_of(request), sku, archived=False))


@router.get("/locations", summary="List locations")
def list_locations(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    archived: Annotated[bool, Query(description="Include archived locations.")] = False,
) -> LocationsPublic:
    """Locations by priority, then code."""
    found = catalog.list_locations(services_of(request), include_archived=archived)
    rows = sorted(
        (loc for loc in found if kind is None or loc.kind.value == kind),
        key=lambda loc: (loc.priority, loc.code),
    )
    page, following = paginate(rows, lambda loc: f"{loc.priority:05d}|{loc.code}", cursor, limit)
    return LocationsPublic(data=[LocationPublic.of(x) for x in page], next_cursor=following)


@router.post("/locations", status_code=201, summary="Add a location", responses=WRITE)
def add_location(request: Request, _key: Admin, body: LocationCreate) -> LocationPublic:
    """Add a location."""
    location = catalog.add_location(
        services_of(request),
        body.code,
        body.name,
        body.kind,
        zone=body.zone,
        priority=body.priority,
    )
    return LocationPublic.of(location)


@router.get("/locations/{code}", summary="Get a location", responses=documented(404))
def get_location(request: Request, _key: Reader, code: CodePath) -> LocationPublic:
    """One location (archived ones too)."""
    for location in catalog.list_locations(services_of(request), include_archived=True):
        if location.code == code:
            return LocationPublic.of(location)
    raise NotFound(f"unknown location {code!r}")


@router.patch("/locations/{code}", summary="Change a location", responses=WRITE)
def update_location(
    request: Request, _key: Admin, code: CodePath, body: LocationUpdate
) -> LocationPublic:
    """Change a location's fields."""
    location = catalog.update_location(
        services_of(request), code, **body.model_dump(exclude_none=True)
    )
    return LocationPublic.of(location)


@router.post("/locations/{code}/archive", summary="Archive a location", responses=WRITE)
def archive_location(request: Request, _key: Admin, code: CodePath) -> LocationPublic:
    """Archive a location; its history stays."""
    return LocationPublic.of(
        catalog.set_location_archived(services_of(request), code, archived=True)
    )


@router.post("/locations/{code}/restore", summary="Restore a location", responses=WRITE)
def restore_location(request: Request, _key: Admin, code: CodePath) -> LocationPublic:
    """Bring an archived location back."""
    return LocationPublic.of(
        catalog.set_location_archived(services_of(request), code, archived=False)
    )
