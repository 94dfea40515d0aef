"""Orders: check-and-reserve, ingest, and the lifecycle after them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from stockpool.api.problems import Problem
from stockpool.api.schemas.common import Code, Input, Output, Units
from stockpool.domain.orders import Order, OversoldException

ExternalId = Annotated[str, Field(min_length=1, max_length=200, examples=["1001"])]
ListingRef = Annotated[str, Field(min_length=1, max_length=200)]
Zone = Annotated[str, Field(max_length=100)]
Reference = Annotated[str, Field(min_length=1, max_length=500)]


class OrderLineCreate(Input):
    """Listing units of one listing."""

    listing: ListingRef
    quantity: Units


Lines = Annotated[list[OrderLineCreate], Field(min_length=1, max_length=500)]


class ReserveCreate(Input):
    """An order accepted only if every line fits its listing's ATS now."""

    channel: Code
    external_id: ExternalId
    lines: Lines
    ship_to_zone: Zone | None = None


class OrderNotification(Input):
    """A channel's word about one of its orders: a full snapshot at `updated_at`."""

    kind: Literal["create", "update", "cancel"]
    channel: Code
    external_id: ExternalId
    updated_at: AwareDatetime
    lines: Annotated[list[OrderLineCreate], Field(max_length=500)] = []
    ship_to_zone: Zone | None = None


class LineUnits(Input):
    """Listing units of one line of an order."""

    line: Annotated[int, Field(ge=1, le=10_000, strict=True)]
    quantity: Units


class Transition(Input):
    """Units per line (every unit that can move when `lines` is absent).

    A `reference` (a shipment or return id) makes the transition idempotent.
    """

    lines: Annotated[list[LineUnits], Field(min_length=1, max_length=500)] | None = None
    reference: Reference | None = None


class ReturnCreate(Transition):
    """Returned units: back to available, or straight to damaged."""

    damaged: bool = False


class CommitmentPublic(Output):
    """Item units of a line at one location."""

    sku: str
    location: str
    committed: int
    shipped: int
    returned: int


class OrderLinePublic(Output):
    """One line of an order."""

    line: int
    listing: str
    sku: str
    quantity: int
    shipped: int
    cancelled: int
    returned: int
    open: int
    covered: int
    missing: int
    commitments: list[CommitmentPublic]


class OrderPublic(Output):
    """An order with its lines and where each is committed."""

    channel: str
    external_id: str
    kind: str
    status: str
    ship_to_zone: str | None
    created_at: datetime
    updated_at: datetime
    lines: list[OrderLinePublic]

    @classmethod
    def of(cls, o: Order) -> OrderPublic:
        """From the domain record."""
        return cls(
            channel=o.channel,
            external_id=o.external_id,
            kind=o.kind.value,
            status=o.status.value,
            ship_to_zone=o.ship_to_zone,
            created_at=o.created_at,
            updated_at=o.updated_at,
            lines=[
                OrderLinePublic(
                    line=x.line_no,
                    listing=x.listing_id,
                    sku=x.sku,
                    quantity=x.quantity,
                    shipped=x.shipped,
                    cancelled=x.cancelled,
                    returned=x.returned,
                    open=x.open,
                    covered=x.covered,
                    missing=x.missing,
                    commitments=[
                        CommitmentPublic(
                            sku=c.sku,
                            location=c.location,
                            committed=c.committed,
                            shipped=c.shipped,
                            returned=c.returned,
                        )
                        for c in x.commitments
                    ],
                )
                for x in o.lines
            ],
        )


class OrdersPublic(Output):
    """A page of orders, newest first."""

    data: list[OrderPublic]
    next_cursor: str | None


class IngestedPublic(Output):
    """What an ingest did (`created`, `applied`, `filled` or `ignored`), and the order."""

    action: str
    order: OrderPublic


class ShortfallLine(Output):
    """A line that does not fit: listing units asked, and the listing's ATS."""

    listing: str
    asked: int
    available: int


class ShortfallProblem(Problem):
    """An order refused because some lines do not fit; nothing was changed."""

    shortfall: list[ShortfallLine]


class ExceptionPublic(Output):
    """Units of an ingested line that stock could not cover."""

    channel: str
    external_id: str
    line: int
    listing: str
    missing: int
    items: dict[str, int]
    created_at: datetime
    resolved_at: datetime | None

    @classmethod
    def of(cls, x: OversoldException) -> ExceptionPublic:
        """From the domain record."""
        return cls(
            channel=x.channel,
            external_id=x.external_id,
            line=x.line_no,
            listing=x.listing_id,
            missing=x.missing,
            items={str(sku): units for sku, units in x.items.items()},
            created_at=x.created_at,
            resolved_at=x.resolved_at,
        )


class ExceptionsPublic(Output):
    """A page of oversold exceptions, oldest first."""

    data: list[ExceptionPublic]
    next_cursor: str | None
