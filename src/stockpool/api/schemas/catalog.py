"""Items and locations."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from stockpool.api.schemas.common import Code, Input, Money, Output, Sku
from stockpool.domain.catalog import Item, Location

Tag = Annotated[str, Field(min_length=1, max_length=100)]
Title = Annotated[str, Field(min_length=1, max_length=500)]
LocationKindName = Literal["warehouse", "3pl", "store", "channel_held"]
Priority = Annotated[int, Field(ge=0, le=10_000, strict=True)]


class ItemCreate(Input):
    """A new item."""

    sku: Sku
    title: Title
    barcode: Annotated[str, Field(max_length=64)] | None = None
    unit_cost: Money | None = None
    price: Money | None = None
    tags: Annotated[list[Tag], Field(max_length=100)] = []


class ItemUpdate(Input):
    """Fields of an item to change (absent or null: unchanged; tags replace the old ones)."""

    title: Title | None = None
    barcode: Annotated[str, Field(max_length=64)] | None = None
    unit_cost: Money | None = None
    price: Money | None = None
    tags: Annotated[list[Tag], Field(max_length=100)] | None = None


class ItemPublic(Output):
    """An item."""

    sku: str
    title: str
    barcode: str | None
    unit_cost: Decimal | None
    price: Decimal | None
    tags: list[str]
    archived: bool

    @classmethod
    def of(cls, item: Item) -> ItemPublic:
        """From the domain record."""
        return cls(
            sku=item.sku,
            title=item.title,
            barcode=item.barcode,
            unit_cost=item.unit_cost,
            price=item.price,
            tags=list(item.tags),
            archived=item.archived_at is not None,
        )


class ItemsPublic(Output):
    """A page of items in SKU order."""

    data: list[ItemPublic]
    next_cursor: str | None


class LocationCreate(Input):
    """A new location."""

    code: Code
    name: Title
    kind: LocationKindName
    zone: Annotated[str, Field(max_length=100)] | None = None
    priority: Priority = 100


class LocationUpdate(Input):
    """Fields of a location to change."""

    name: Title | None = None
    kind: LocationKindName | None = None
    zone: Annotated[str, Field(max_length=100)] | None = None
    priority: Priority | None = None


class LocationPublic(Output):
    """A location."""

    code: str
    name: str
    kind: str
    zone: str | None
    priority: int
    archived: bool

    @classmethod
    def of(cls, location: Location) -> LocationPublic:
        """From the domain record."""
        return cls(
            code=location.code,
            name=location.name,
            kind=location.kind.value,
            zone=location.zone,
            priority=location.priority,
            archived=location.archived_at is not None,
        )


class LocationsPublic(Output):
    """A page of locations by priority."""

    data: list[LocationPublic]
    next_cursor: str | None
