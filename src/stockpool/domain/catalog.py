"""The catalog: items we hold and the locations that hold them.

An item is a stock-keeping unit, keyed by its SKU (case-sensitive, at most 100 characters,
no surrounding spaces). A location has a short code, a kind, an optional zone and a
priority (lower is served first). Neither is ever deleted: archiving hides it from new work
while its history stays in the ledger.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku

SKU_MAX_LENGTH = 100
CODE_MAX_LENGTH = 50


class LocationKind(StrEnum):
    """What sort of place holds the stock."""

    WAREHOUSE = "warehouse"
    THIRD_PARTY = "3pl"
    STORE = "store"
    CHANNEL_HELD = "channel_held"


@dataclass(frozen=True)
class Item:
    """A stock-keeping unit.

    Attributes:
        sku: the key people use (case-sensitive).
        title: what it is.
        barcode: GTIN/EAN/UPC or an internal barcode, if any.
        unit_cost: average landed cost of one unit, if known.
        price: list price of one unit, if known.
        tags: free labels (category, season) that allocation rules can target.
        archived_at: when it was archived, None while active.
    """

    sku: Sku
    title: str
    barcode: str | None = None
    unit_cost: Decimal | None = None
    price: Decimal | None = None
    tags: tuple[str, ...] = ()
    archived_at: datetime | None = None


@dataclass(frozen=True)
class Location:
    """A place that holds stock."""

    code: LocationCode
    name: str
    kind: LocationKind
    zone: str | None = None
    priority: int = 100
    archived_at: datetime | None = None


def require_sku(text: str) -> Sku:
    """Validate a SKU as given by a person or a file."""
    if not text or text != text.strip():
        raise InvalidInput(f"SKU must be non-empty without surrounding spaces, got {text!r}")
    if len(text) > SKU_MAX_LENGTH:
        raise InvalidInput(f"SKU must be at most {SKU_MAX_LENGTH} characters, got {len(text)}")
    if any(not ch.isprintable() for ch in text):
        raise InvalidInput(f"SKU must contain printable characters only, got {text!r}")
    return Sku(text)


def require_code(text: str, *, what: str = "location code") -> str:
    """Validate a short code (location, channel): letters, digits, '-', '_' and '.'."""
    if not text or len(text) > CODE_MAX_LENGTH:
        raise InvalidInput(f"{what} must be 1 to {CODE_MAX_LENGTH} characters, got {text!r}")
    if not all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in text):
        raise InvalidInput(f"{what} may contain letters, digits, '-', '_' and '.', got {text!r}")
    return text


def require_location_kind(text: str) -> LocationKind:
    """Parse a location kind, listing the valid ones when it is not."""
    try:
        return LocationKind(text)
    except ValueError:
        kinds = ", ".join(k.value for k in LocationKind)
        raise InvalidInput(f"location kind must be one of {kinds}, got {text!r}") from None


def require_money(value: str | Decimal | None, *, what: str) -> Decimal | None:
    """Parse a non-negative amount of money with at most 4 decimals."""
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{what} must be a number, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidInput(f"{what} must be zero or more, got {value!r}")
    if amount.as_tuple().exponent < -4:  # type: ignore[operator]
        raise InvalidInput(f"{what} may have at most 4 decimals, got {value!r}")
    return amount


def require_title(text: str, *, what: str = "title") -> str:
    """A non-empty, printable name of at most 500 characters."""
    cleaned = text.strip()
    if not cleaned or len(cleaned) > 500:
        raise InvalidInput(f"{what} must be 1 to 500 characters")
    return cleaned
