"""The connector interface: what the sync engine asks of every sales channel.

A connector pushes absolute quantities (with compare-and-set where the channel has it),
reads quantities back, lists and fetches the channel's orders, and verifies and parses the
channel's webhooks. It reports the channel's rate-limit state after every call (`rate`), so
that the caller can spend its budget without being throttled. Failures are raised as the
classified errors of `stockpool.channels.errors`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class Capabilities:
    """What a channel supports.

    Attributes:
        compare_and_set: writes can say which quantity they expect to replace.
        idempotency_keys: a repeated write with the same key is applied once.
        max_batch: the most quantities one write may carry.
        webhooks: the channel notifies us of its orders.
    """

    compare_and_set: bool
    idempotency_keys: bool
    max_batch: int
    webhooks: bool


@dataclass(frozen=True, order=True)
class RemoteRef:
    """Where a listing's quantity lives on the channel (e.g. inventory item x location)."""

    item: str
    location: str


@dataclass(frozen=True)
class QuantityPush:
    """Set one listing's quantity on the channel.

    Attributes:
        listing: our listing id (echoed back in results).
        ref: the channel's item and location.
        quantity: the absolute quantity to show.
        change_from: the quantity we expect the channel to hold now (None: do not compare).
        version: the version of our value (part of the idempotency key).
        attempt: how many attempts at this value failed before (part of the idempotency
            key: a new attempt after a known failure must not get the failure's answer).
    """

    listing: str
    ref: RemoteRef
    quantity: int
    change_from: int | None
    version: int
    attempt: int = 0


class PushStatus(StrEnum):
    """What became of one quantity of a push."""

    APPLIED = "applied"
    STALE = "stale"  # compare-and-set failed: the channel holds another quantity
    INVALID = "invalid"  # unknown item or location
    REJECTED = "rejected"  # refused for another reason
    NOT_APPLIED = "not_applied"  # another quantity of the same write failed; retry it


@dataclass(frozen=True)
class PushItemResult:
    """The outcome of one quantity."""

    push: QuantityPush
    status: PushStatus
    message: str = ""


@dataclass(frozen=True)
class PushResult:
    """The outcome of one write: per quantity, and the channel's id for the write."""

    items: tuple[PushItemResult, ...]
    response_id: str | None


@dataclass(frozen=True)
class RateReport:
    """The channel's rate-limit state as it last reported it.

    Attributes:
        maximum: the bucket's size.
        available: what was left when the answer was sent.
        restore_rate: units restored per second.
        cost: what the call that produced this report cost (its requested cost if refused).
    """

    maximum: float
    available: float
    restore_rate: float
    cost: float


@dataclass(frozen=True)
class ChannelOrderLine:
    """One line of a channel's order: its item on the channel and its current quantity."""

    remote_item: str
    quantity: int
    sku: str | None = None


@dataclass(frozen=True)
class ChannelOrder:
    """A channel's order as the channel has it now.

    Attributes:
        external_id: the channel's id of the order.
        updated_at: the channel's own last update time.
        cancelled: whether the channel cancelled it.
        lines: its lines, with quantities after any removal.
    """

    external_id: str
    updated_at: datetime
    cancelled: bool
    lines: tuple[ChannelOrderLine, ...]


@dataclass(frozen=True)
class OrdersPage:
    """One page of orders by update time, and the cursor of the next (None at the end)."""

    orders: tuple[ChannelOrder, ...]
    next_cursor: str | None


@dataclass(frozen=True)
class WebhookEvent:
    """What a verified webhook is about.

    Attributes:
        topic: the channel's topic, e.g. `orders/create`.
        delivery_id: the channel's delivery id (stable across its retries).
        shop: the account that sent it.
        order_id: the order it concerns, if any.
        updated_at: the channel's update time of that order, if given.
    """

    topic: str
    delivery_id: str
    shop: str
    order_id: str | None
    updated_at: datetime | None


class Connector(Protocol):
    """One sales channel, on an injected HTTP client."""

    @property
    def capabilities(self) -> Capabilities:
        """What the channel supports."""
        ...

    @property
    def rate(self) -> RateReport | None:
        """The rate-limit state the channel reported last (None before any call)."""
        ...

    async def push_quantities(self, pushes: Sequence[QuantityPush]) -> PushResult:
        """Set quantities; at most `capabilities.max_batch` of them."""
        ...

    async def fetch_quantities(self, refs: Sequence[RemoteRef]) -> dict[RemoteRef, int | None]:
        """The channel's current quantity of each ref (None: unknown to the channel)."""
        ...

    async def fetch_orders(self, since: datetime, *, cursor: str | None = None) -> OrdersPage:
        """Orders updated at or after `since`, oldest update first, one page."""
        ...

    async def fetch_order(self, external_id: str) -> ChannelOrder | None:
        """One order as the channel has it now (None if it does not exist)."""
        ...

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check a webhook's signature and return its delivery id (raises on failure)."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """What a verified webhook is about."""
        ...
