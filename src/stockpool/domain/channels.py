"""Sales channels and their listings, as the catalog records them.

A channel (a Shopify store, an Amazon account, a wholesale portal) has a kind, a priority
(lower is served first when protections compete), a fee rate, and the locations it may be
served from. A listing is what a channel sells under its own id: one item or one bundle,
times a units multiplier (a 6-pack listing sells 6 units).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku


class ChannelKind(StrEnum):
    """The platform a channel runs on."""

    SHOPIFY = "shopify"
    AMAZON = "amazon"
    WALMART = "walmart"
    EBAY = "ebay"
    WOOCOMMERCE = "woocommerce"
    TIKTOK = "tiktok"
    POS = "pos"
    WHOLESALE = "wholesale"
    OTHER = "other"


@dataclass(frozen=True)
class SalesChannel:
    """A channel as configured.

    Attributes:
        code: short name used everywhere (`shopify-us`).
        name: readable name.
        kind: the platform.
        account: the account or shop on that platform.
        priority: lower is served first when protections compete.
        fee_rate: the channel's fees as a fraction of the price (0.15 = 15%).
        eligible_locations: the locations whose stock may serve it.
        archived_at: when it was archived, None while active.
    """

    code: ChannelCode
    name: str
    kind: ChannelKind
    account: str = ""
    priority: int = 100
    fee_rate: Decimal = Decimal(0)
    eligible_locations: frozenset[LocationCode] = frozenset()
    archived_at: datetime | None = None


@dataclass(frozen=True)
class ChannelListing:
    """A listing as configured, with its stored available-to-sell.

    Attributes:
        channel: the channel.
        listing_id: the channel's own id of the listing.
        channel_sku: the SKU the channel shows (often the same as ours).
        sku: the item or bundle it sells.
        units: item (or bundle) units per listing unit.
        is_bundle: whether `sku` is a bundle.
        ats: the last computed available-to-sell.
        ats_version: increases on every change of `ats`.
    """

    channel: ChannelCode
    listing_id: ListingId
    channel_sku: str
    sku: Sku
    units: int = 1
    is_bundle: bool = False
    ats: int = 0
    ats_version: int = 0


class ListingRef(NamedTuple):
    """A listing as allocation needs it: a plain tuple, since a plan holds every listing.

    Attributes:
        row_id: the store's key of the listing.
        channel: the channel.
        listing_id: the channel's own id.
        sku: the item or bundle it sells.
        multiplier: item (or bundle) units per listing unit.
        is_bundle: whether `sku` is a bundle.
    """

    row_id: int
    channel: ChannelCode
    listing_id: ListingId
    sku: Sku
    multiplier: int
    is_bundle: bool

    @property
    def units(self) -> int:
        """Units per listing unit, as listings name it."""
        return self.multiplier


def require_channel_kind(text: str) -> ChannelKind:
    """Parse a channel kind, listing the valid ones when it is not."""
    try:
        return ChannelKind(text)
    except ValueError:
        kinds = ", ".join(k.value for k in ChannelKind)
        raise InvalidInput(f"channel kind must be one of {kinds}, got {text!r}") from None


def require_fee_rate(value: str | Decimal | None) -> Decimal:
    """A fee rate between 0 and 1 (0.15 means 15%)."""
    if value is None or value == "":
        return Decimal(0)
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"fee rate must be a number between 0 and 1, got {value!r}") from None
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(1):
        raise InvalidInput(f"fee rate must be a number between 0 and 1, got {value!r}")
    return rate


def require_listing_id(text: str) -> ListingId:
    """A channel's listing id: 1 to 200 printable characters."""
    if not text or len(text) > 200 or text != text.strip() or not text.isprintable():
        raise InvalidInput(f"listing id must be 1 to 200 printable characters, got {text!r}")
    return ListingId(text)
