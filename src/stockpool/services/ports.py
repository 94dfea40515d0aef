"""What the services need from persistence. The store implements these protocols."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from stockpool.domain.access import ApiKey, AuditEntry, Role, StoredResponse
from stockpool.domain.allocation import Bundle
from stockpool.domain.catalog import Item, Location
from stockpool.domain.channels import ChannelListing, ListingRef, SalesChannel
from stockpool.domain.counts import Count, CountLine, CountLineStatus, Threshold
from stockpool.domain.events import (
    DeliveryStatus,
    Event,
    InboundDelivery,
    NewEvent,
    OutboundDelivery,
    Subscription,
)
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.ledger import LevelKey, Movement, MovementKind, StatusChange, StockDelta
from stockpool.domain.orders import Order, OrderKind, OrderLine, OrderStatus, OversoldException
from stockpool.domain.purchasing import (
    PoLine,
    PoStatus,
    PurchaseOrder,
    Supplier,
    SupplierCode,
    SupplierItem,
)
from stockpool.domain.quantities import StockState, UnavailableReason
from stockpool.domain.rules import Rule, RuleBook, RuleLevel
from stockpool.domain.transfers import Transfer, TransferLine, TransferStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page)."""

    rows: list[T]
    next_cursor: str | None


class CatalogRepository(Protocol):
    """Items and locations."""

    def add_item(self, item: Item, *, at: datetime) -> None: ...
    def update_item(self, sku: Sku, changes: Mapping[str, Any], *, at: datetime) -> Item: ...
    def lock_item(self, sku: Sku) -> None: ...
    def get_item(self, sku: Sku) -> Item: ...
    def list_items(
        self, *, include_archived: bool, after: str | None, limit: int, tag: str | None = None
    ) -> Page[Item]: ...
    def add_location(self, location: Location, *, at: datetime) -> None: ...
    def update_location(
        self, code: LocationCode, changes: Mapping[str, Any], *, at: datetime
    ) -> Location: ...
    def get_location(self, code: LocationCode) -> Location: ...
    def list_locations(self, *, include_archived: bool) -> list[Location]: ...


class StockRepository(Protocol):
    """Balances per item x location and the immutable records behind them."""

    def apply(
        self, sku: Sku, location: LocationCode, delta: StockDelta, *, expect_on_hand: int | None
    ) -> StockState: ...
    def touched(self) -> set[Sku]: ...
    def record_movement(self, movement: Movement) -> None: ...
    def record_status_change(self, change: StatusChange) -> None: ...
    def get_state(self, sku: Sku, location: LocationCode, *, lock: bool = False) -> StockState: ...
    def states_of(self, sku: Sku) -> list[tuple[LocationCode, StockState]]: ...
    def movements_of(
        self, sku: Sku, *, location: LocationCode | None, limit: int
    ) -> list[Movement]: ...
    def stored_levels(self) -> dict[LevelKey, tuple[StockState, int]]: ...
    def movement_totals(self) -> Iterator[tuple[LevelKey, int]]: ...
    def status_totals(self) -> Iterator[tuple[LevelKey, UnavailableReason, int]]: ...
    def open_commitments(self) -> dict[LevelKey, int]: ...
    def open_incoming(self) -> dict[LevelKey, int]: ...
    def existing_items(self, skus: Collection[Sku]) -> set[Sku]: ...
    def lock_levels(self, keys: Collection[LevelKey]) -> dict[LevelKey, StockState]: ...
    def lock_items(self, skus: Collection[Sku]) -> dict[Sku, dict[LocationCode, int]]: ...
    def touch(self, skus: Iterable[Sku]) -> None: ...
    def apply_on_hand_bulk(
        self,
        changes: Sequence[tuple[Sku, LocationCode, int]],
        *,
        kind: MovementKind,
        reason: str,
        actor: str,
        reference: str,
        at: datetime,
    ) -> None: ...


class TransferRepository(Protocol):
    """Transfer documents."""

    def create(
        self,
        source: LocationCode,
        destination: LocationCode,
        lines: Sequence[TransferLine],
        *,
        reference: str,
        actor: str,
        at: datetime,
        expected_at: datetime | None,
    ) -> int: ...
    def get(self, transfer_id: int) -> Transfer: ...
    def lock(self, transfer_id: int) -> None: ...
    def update_line(self, transfer_id: int, line: TransferLine) -> None: ...
    def set_status(self, transfer_id: int, status: TransferStatus, *, at: datetime) -> None: ...
    def list(self, *, status: TransferStatus | None, limit: int) -> list[Transfer]: ...


class ChannelRepository(Protocol):
    """Channels, listings and bundles, and the version of the allocation configuration."""

    def config_version(self) -> int: ...
    def bump_config(self) -> None: ...
    def add_channel(self, channel: SalesChannel, *, at: datetime) -> None: ...
    def update_channel(
        self, code: ChannelCode, changes: Mapping[str, Any], *, at: datetime
    ) -> SalesChannel: ...
    def get_channel(self, code: ChannelCode) -> SalesChannel: ...
    def list_channels(self, *, include_archived: bool = False) -> list[SalesChannel]: ...
    def sku_kind(self, sku: Sku) -> str | None: ...
    def save_bundle(
        self, sku: Sku, title: str, components: Sequence[tuple[Sku, int]], *, at: datetime
    ) -> None: ...
    def bundles(self) -> dict[Sku, Bundle]: ...
    def bundle_titles(self) -> dict[Sku, str]: ...
    def add_listing(self, listing: ChannelListing, *, at: datetime) -> None: ...
    def list_listings(
        self, *, channel: ChannelCode | None = None, sku: Sku | None = None
    ) -> list[tuple[int, ChannelListing]]: ...
    def plan_listings(self) -> list[ListingRef]: ...
    def get_listing(
        self, channel: ChannelCode, listing_id: ListingId
    ) -> tuple[int, ChannelListing]: ...
    def item_tags(self) -> dict[Sku, tuple[str, ...]]: ...
    def sourcing(self, code: ChannelCode) -> str: ...


class RuleRepository(Protocol):
    """Allocation rules, event profiles and the audit of rule changes."""

    def get_rule(
        self, level: RuleLevel, target: str | None, channel: ChannelCode | None, event: str | None
    ) -> Rule | None: ...
    def save_rule(self, rule: Rule, *, at: datetime) -> None: ...
    def delete_rule(
        self, level: RuleLevel, target: str | None, channel: ChannelCode | None, event: str | None
    ) -> None: ...
    def list_rules(self) -> list[Rule]: ...
    def add_event(self, name: str, start: datetime, end: datetime, *, at: datetime) -> None: ...
    def list_events(self) -> list[tuple[str, datetime, datetime]]: ...
    def rule_book(self) -> RuleBook: ...
    def record_change(
        self,
        scope: str,
        before: Rule | None,
        after: Rule | None,
        *,
        actor: str,
        reason: str,
        at: datetime,
    ) -> None: ...
    def changes(self, *, limit: int) -> list[dict[str, Any]]: ...


class AtsRepository(Protocol):
    """Available stock for the ATS engine, and each listing's stored ATS."""

    def available(self, skus: Iterable[Sku] | None) -> dict[Sku, dict[LocationCode, int]]: ...
    def stored(self, listing_ids: Iterable[int] | None) -> dict[int, tuple[int, int]]: ...
    def store(self, changes: Mapping[int, int], *, at: datetime) -> None: ...


class PurchasingRepository(Protocol):
    """Suppliers, their terms per item, purchase orders and observed lead times."""

    def add_supplier(self, supplier: Supplier, *, at: datetime) -> None: ...
    def update_supplier(
        self, code: SupplierCode, changes: Mapping[str, Any], *, at: datetime
    ) -> Supplier: ...
    def get_supplier(self, code: SupplierCode) -> Supplier: ...
    def list_suppliers(self) -> list[Supplier]: ...
    def set_terms(self, terms: SupplierItem, *, at: datetime) -> None: ...
    def list_terms(self, supplier: SupplierCode, sku: Sku | None = None) -> list[SupplierItem]: ...
    def create_po(
        self,
        supplier: SupplierCode,
        destination: LocationCode,
        lines: Sequence[PoLine],
        *,
        reference: str,
        actor: str,
        at: datetime,
        expected_at: datetime | None,
    ) -> int: ...
    def get_po(self, po_id: int) -> PurchaseOrder: ...
    def lock_po(self, po_id: int) -> None: ...
    def update_po(self, po_id: int, changes: Mapping[str, Any]) -> None: ...
    def set_received(self, po_id: int, sku: Sku, received: int) -> None: ...
    def list_pos(self, *, status: PoStatus | None, limit: int) -> list[PurchaseOrder]: ...
    def record_lead_time(
        self, po: PurchaseOrder, sku: Sku, quantity: int, *, received_at: datetime, days: Decimal
    ) -> None: ...
    def lead_times(self, supplier: SupplierCode, sku: Sku) -> list[Decimal]: ...


class CountRepository(Protocol):
    """Count documents, and what a reconciliation asks of the ledger."""

    def create(
        self, *, reference: str, reason: str, actor: str, threshold: Threshold, at: datetime
    ) -> int: ...
    def add_lines(self, count_id: int, lines: Sequence[CountLine]) -> None: ...
    def get(self, count_id: int) -> Count: ...
    def recent(self, *, limit: int) -> list[Count]: ...
    def decide(
        self, count_id: int, key: LevelKey, status: CountLineStatus, *, actor: str, at: datetime
    ) -> None: ...
    def moved_since(self, since: Sequence[tuple[LevelKey, datetime]]) -> dict[LevelKey, int]: ...
    def open_documents(self, keys: Sequence[LevelKey]) -> dict[LevelKey, list[str]]: ...


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to list (None: any)."""

    key_id: int | None = None
    method: str | None = None
    resource: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AccessRepository(Protocol):
    """API keys (hashed), the answers kept for idempotent retries, and the audit log."""

    def add_key(
        self, name: str, role: Role, *, prefix: str, key_hash: str, at: datetime
    ) -> ApiKey: ...
    def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def revoke_key(self, key_id: int, *, at: datetime) -> ApiKey: ...
    def claim_idempotency(
        self,
        key_id: int,
        key: str,
        *,
        method: str,
        path: str,
        body_hash: str,
        at: datetime,
        stale_before: datetime,
    ) -> tuple[str, StoredResponse | None]: ...
    def finish_idempotency(self, key_id: int, key: str, response: StoredResponse) -> None: ...
    def release_idempotency(self, key_id: int, key: str) -> None: ...
    def record_audit(self, entry: AuditEntry) -> int: ...
    def audit_page(
        self, wanted: AuditFilter, *, before_id: int | None, limit: int
    ) -> Page[AuditEntry]: ...


class EventRepository(Protocol):
    """The event feed, channel webhooks as delivered, and outgoing webhooks."""

    def append(self, events: Sequence[NewEvent], *, at: datetime) -> None: ...
    def after(
        self,
        after_id: int,
        *,
        limit: int,
        item: str | None = None,
        channel: str | None = None,
        types: Collection[str] | None = None,
    ) -> list[Event]: ...
    def last_id(self) -> int: ...
    def get_event(self, event_id: int) -> Event: ...
    def store_inbound(
        self,
        channel: str,
        dedupe_key: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        at: datetime,
    ) -> tuple[int, bool]: ...
    def unprocessed_inbound(
        self, *, channels: Collection[str], limit: int, max_attempts: int
    ) -> list[InboundDelivery]: ...
    def get_inbound(self, delivery_id: int) -> InboundDelivery: ...
    def mark_inbound(
        self, delivery_id: int, *, processed_at: datetime | None, error: str | None
    ) -> None: ...
    def add_subscription(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        secret: str,
        description: str,
        cursor: int,
        at: datetime,
    ) -> Subscription: ...
    def get_subscription(self, subscription_id: int) -> Subscription: ...
    def list_subscriptions(self, *, include_disabled: bool) -> list[Subscription]: ...
    def disable_subscription(self, subscription_id: int, *, at: datetime) -> Subscription: ...
    def advance_cursor(self, subscription_id: int, old: int, new: int) -> bool: ...
    def add_deliveries(
        self, subscription_id: int, event_ids: Sequence[int], *, at: datetime
    ) -> None: ...
    def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> list[int]: ...
    def get_delivery(self, delivery_id: int) -> OutboundDelivery: ...
    def record_attempt(
        self,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime,
        response_status: int | None,
        error: str | None,
        delivered_at: datetime | None,
    ) -> None: ...
    def deliveries_of(
        self, subscription_id: int, *, before_id: int | None, limit: int
    ) -> Page[OutboundDelivery]: ...


class OrderRepository(Protocol):
    """Orders, their lines and commitments, oversold exceptions and zone distances."""

    def claim(
        self,
        channel: ChannelCode,
        external_id: str,
        *,
        kind: OrderKind,
        ship_to_zone: str | None,
        channel_updated_at: datetime | None,
        at: datetime,
    ) -> int | None: ...
    def find(
        self, channel: ChannelCode, external_id: str, *, lock: bool = False
    ) -> tuple[int, Order] | None: ...
    def add_line(self, order_id: int, line: OrderLine) -> None: ...
    def update_line(self, order_id: int, line: OrderLine) -> None: ...
    def change_commitment(
        self,
        order_id: int,
        line_no: int,
        sku: Sku,
        location: LocationCode,
        *,
        committed: int = 0,
        shipped: int = 0,
        returned: int = 0,
    ) -> None: ...
    def set_state(
        self,
        order_id: int,
        status: OrderStatus,
        *,
        at: datetime,
        channel_updated_at: datetime | None = None,
    ) -> None: ...
    def record_event(self, order_id: int, reference: str, *, at: datetime) -> bool: ...
    def list_orders(
        self, *, channel: ChannelCode | None, status: OrderStatus | None, limit: int
    ) -> list[Order]: ...
    def sync_exception(
        self, order_id: int, line: OrderLine, *, short: Mapping[Sku, int], at: datetime
    ) -> None: ...
    def exceptions(
        self, *, include_resolved: bool, channel: ChannelCode | None = None
    ) -> list[OversoldException]: ...
    def open_exception_orders(self) -> list[tuple[ChannelCode, str]]: ...
    def oversold_items(self, skus: Iterable[Sku] | None) -> set[Sku]: ...
    def zone_distances(self) -> dict[tuple[str, str], int]: ...
    def set_zone_distance(self, zones: tuple[str, str], distance: int) -> None: ...


@dataclass(frozen=True)
class ChannelConnection:
    """How to reach a channel's account (see `stockpool sync connect`).

    Attributes:
        channel: our channel.
        kind: the channel's kind (which connector serves it).
        shop: the account's domain on the channel (webhooks name it).
        base_url: where its API answers.
        token: its API access token.
        secrets: webhook signing secrets, current first.
        heal: what reconciliation does with drift: "report" or "repush".
        orders_cursor: the channel update time up to which orders were polled.
    """

    channel: ChannelCode
    kind: str
    shop: str
    base_url: str
    token: str
    secrets: tuple[str, ...]
    heal: str = "report"
    orders_cursor: datetime | None = None


@dataclass(frozen=True)
class SyncTask:
    """A listing's newest value, waiting in the outbox to be pushed to its channel.

    Attributes:
        row_id: the listing's row.
        listing: the listing's id on the channel.
        item: the channel's item id; location: the channel's location id.
        desired: the quantity to show; version: its version.
        first_changed_at: the oldest change not yet acknowledged.
        channel_quantity: what the channel holds as far as we know (None: unknown).
        pushed_quantity: the last acknowledged quantity (None: never pushed).
        attempts: failed attempts so far.
    """

    row_id: int
    listing: ListingId
    item: str
    location: str
    desired: int
    version: int
    first_changed_at: datetime
    channel_quantity: int | None
    pushed_quantity: int | None
    attempts: int


@dataclass(frozen=True)
class SyncState:
    """A mapped listing's sync state, for reconciliation.

    Attributes:
        row_id: the listing's row; listing: its id; item, location: where it is on the
            channel; ats: its stored ATS; pushed_quantity, pushed_at: the last acknowledged
            push; pending: whether a newer value waits in the outbox.
    """

    row_id: int
    listing: ListingId
    item: str
    location: str
    ats: int
    pushed_quantity: int | None
    pushed_at: datetime | None
    pending: bool


@dataclass(frozen=True)
class SyncHealth:
    """One channel's sync health over a window (see `services.sync.status`)."""

    channel: ChannelCode
    lags_ms: list[int]
    queue_depth: int
    failures: int
    failing_now: int
    last_success: datetime | None
    drift: int


class SyncRepository(Protocol):
    """Channel connections, listing mappings, the outbox and what became of each push."""

    def enqueue(self, changes: Mapping[int, tuple[int, int]], *, at: datetime) -> None: ...
    def enqueue_current(
        self, channel: ChannelCode, rows: Collection[int] | None, *, at: datetime
    ) -> int: ...
    def save_connection(self, connection: ChannelConnection, *, at: datetime) -> None: ...
    def connection(self, channel: ChannelCode) -> ChannelConnection | None: ...
    def connections(self) -> list[ChannelConnection]: ...
    def set_orders_cursor(self, channel: ChannelCode, cursor: datetime) -> None: ...
    def map_listing(
        self, channel: ChannelCode, listing: ListingId, *, item: str, location: str
    ) -> int: ...
    def listings_by_item(self, channel: ChannelCode) -> dict[str, ListingId]: ...
    def states(self, channel: ChannelCode) -> list[SyncState]: ...
    def candidates(self, channel: ChannelCode, *, now: datetime, limit: int) -> list[SyncTask]: ...
    def lease(self, rows: Collection[int], *, owner: str, until: datetime) -> None: ...
    def velocity(self, channel: ChannelCode, *, since: datetime) -> dict[ListingId, int]: ...
    def set_channel_quantity(self, quantities: Mapping[int, int | None]) -> None: ...
    def acknowledge(
        self, task: SyncTask, *, quantity: int, response_id: str | None, owner: str, at: datetime
    ) -> None: ...
    def release(
        self,
        task: SyncTask,
        *,
        owner: str,
        next_attempt_at: datetime,
        outcome: str | None,
        error: str | None,
        at: datetime,
    ) -> None: ...
    def units_since(
        self, channel: ChannelCode, listings: Collection[ListingId], since: datetime
    ) -> dict[ListingId, int]: ...
    def save_drift(
        self, row_id: int, *, expected: int, actual: int, cause: str, at: datetime
    ) -> datetime: ...
    def clear_drift(self, rows: Collection[int]) -> None: ...
    def health(self, channel: ChannelCode, *, since: datetime) -> SyncHealth: ...


class UnitOfWork(Protocol):
    """One database transaction: everything in it commits together or not at all."""

    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def stock(self) -> StockRepository: ...
    @property
    def transfers(self) -> TransferRepository: ...
    @property
    def purchasing(self) -> PurchasingRepository: ...
    @property
    def counts(self) -> CountRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def rules(self) -> RuleRepository: ...
    @property
    def ats(self) -> AtsRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def access(self) -> AccessRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def sync(self) -> SyncRepository: ...

    @property
    def memo(self) -> dict[object, object]:
        """Values computed once per unit of work (dropped with it)."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work on one database."""

    def __call__(self) -> UnitOfWork: ...


class Clock(Protocol):
    """The time now (injected: the domain never reads the clock)."""

    def __call__(self) -> datetime: ...
