"""Transfers between locations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field

from stockpool.api.schemas.common import Code, Input, Output, Sku, Units
from stockpool.domain.transfers import Transfer


class TransferLineCreate(Input):
    """Units of one item to ship or receive."""

    sku: Sku
    quantity: Units


Lines = Annotated[list[TransferLineCreate], Field(min_length=1, max_length=1000)]


class TransferCreate(Input):
    """A transfer shipped now: gone from `from`, incoming at `to` until received."""

    source: Code = Field(alias="from")
    destination: Code = Field(alias="to")
    lines: Lines
    expected_at: AwareDatetime | None = None


class TransferReceipt(Input):
    """Units received (every unit in transit when `lines` is absent)."""

    lines: Lines | None = None


class TransferLinePublic(Output):
    """One line of a transfer and how far it got."""

    sku: str
    quantity: int
    received: int
    cancelled: int
    in_transit: int


class TransferPublic(Output):
    """A transfer with its lines."""

    id: int
    source: str = Field(serialization_alias="from")
    destination: str = Field(serialization_alias="to")
    status: str
    reference: str
    created_at: datetime
    expected_at: datetime | None
    lines: list[TransferLinePublic]

    @classmethod
    def of(cls, t: Transfer) -> TransferPublic:
        """From the domain record."""
        return cls(
            id=t.id,
            source=t.source,
            destination=t.destination,
            status=t.status.value,
            reference=t.reference,
            created_at=t.created_at,
            expected_at=t.expected_at,
            lines=[
                TransferLinePublic(
                    sku=x.sku,
                    quantity=x.quantity,
                    received=x.received,
                    cancelled=x.cancelled,
                    in_transit=x.in_transit,
                )
                for x in t.lines
            ],
        )


class TransfersPublic(Output):
    """A page of transfers, newest first."""

    data: list[TransferPublic]
    next_cursor: str | None
