"""Ports of channel synchronisation: connections, the outbox, sync state and health."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from stockpool.domain.ids import ChannelCode, ListingId


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

    def enqueue(self, changes: Sequence[tuple[int, int, int]], *, at: datetime) -> None: ...
    def enqueue_current(
        self, channel: ChannelCode, rows: Collection[int] | None, *, at: datetime
    ) -> int: ...
    def save_connection(self, connection: ChannelConnection, *, at: datetime) -> None: ...
    def disconnect(self, channel: ChannelCode) -> bool: ...
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
    def units_since_each(
        self, channel: ChannelCode, since: Mapping[ListingId, datetime]
    ) -> dict[ListingId, int]: ...
    def save_drift(
        self, row_id: int, *, expected: int, actual: int, cause: str, at: datetime
    ) -> datetime: ...
    def clear_drift(self, rows: Collection[int]) -> None: ...
    def health(self, channel: ChannelCode, *, since: datetime) -> SyncHealth: ...
