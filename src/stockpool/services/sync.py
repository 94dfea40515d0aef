"""Use cases of channel synchronisation: connect, map, claim and record pushes, ingest the
channel's orders, reconcile, and report health.

The dispatcher (`stockpool.sync`) calls these between its network calls, never around
them: it claims outbox rows in one transaction, pushes outside any, and records the results
in another. Claimed rows are served riskiest first: listings that just went to zero, then
the fewest weeks of cover, then the fastest sellers (velocity from the channel's orders of
the last `VELOCITY_DAYS`), then the smallest quantities.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.events import InboundDelivery
from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.domain.orders import LineRequest, NotificationKind
from stockpool.services import orders
from stockpool.services.context import Services
from stockpool.services.events import publish
from stockpool.services.ports import (
    ChannelConnection,
    SyncHealth,
    SyncState,
    SyncTask,
    UnitOfWork,
)
from stockpool.services.stock import Actor
from stockpool.services.sync_events import drift_event, sync_events
from stockpool.services.webhooks_in import MAX_PROCESSING_ATTEMPTS

VELOCITY_DAYS = 7
CANDIDATES_PER_SLOT = 4
HEAL_POLICIES = ("report", "repush")
SYNC_ACTOR = Actor("sync")


def connect(
    app: Services,
    channel: str,
    *,
    shop: str,
    base_url: str,
    token: str,
    secrets: Sequence[str],
    heal: str = "report",
) -> int:
    """Store how to reach a channel's account and queue every mapped listing for a push.

    Returns:
        The number of listings queued.
    """
    if heal not in HEAL_POLICIES:
        raise InvalidInput(f"heal must be one of {', '.join(HEAL_POLICIES)}, got {heal!r}")
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInput(f"base URL must start with http:// or https://, got {base_url!r}")
    if not shop.strip() or not token:
        raise InvalidInput("a shop domain and an access token are needed")
    code = ChannelCode(channel)
    with app.uow() as uow:
        kind = uow.channels.get_channel(code).kind
        old = uow.sync.connection(code)
        connection = ChannelConnection(
            code,
            kind,
            shop.strip(),
            base_url.rstrip("/"),
            token,
            tuple(s for s in secrets if s),
            heal,
            None if old is None else old.orders_cursor,
        )
        uow.sync.save_connection(connection, at=app.clock())
        queued = uow.sync.enqueue_current(code, None, at=app.clock())
        uow.commit()
    return queued


def disconnect(app: Services, channel: str) -> None:
    """Disconnect a channel: its connection, listing mappings, pending pushes and drift go;
    the log of past pushes stays. A dispatcher stops serving it at its next refresh."""
    with app.uow() as uow:
        if not uow.sync.disconnect(ChannelCode(channel)):
            uow.channels.get_channel(ChannelCode(channel))  # NotFound for an unknown one
            raise NotFound(f"channel {channel} is not connected")
        uow.commit()


def map_listing(app: Services, channel: str, listing: str, *, item: str, location: str) -> None:
    """Map a listing to its channel item and location, and queue its current ATS."""
    if not item.strip() or not location.strip():
        raise InvalidInput("an inventory item id and a location id are needed")
    code = ChannelCode(channel)
    with app.uow() as uow:
        row = uow.sync.map_listing(code, ListingId(listing), item=item, location=location)
        uow.sync.enqueue_current(code, [row], at=app.clock())
        uow.commit()


def connections(app: Services) -> list[ChannelConnection]:
    """Every connected channel."""
    with app.uow() as uow:
        return uow.sync.connections()


def connection_for_shop(app: Services, shop: str) -> ChannelConnection:
    """The connection of the account with this domain."""
    for found in connections(app):
        if found.shop == shop:
            return found
    raise NotFound(f"no channel is connected to {shop!r}")


def prioritise(
    tasks: Sequence[SyncTask], velocity: Mapping[ListingId, int], *, days: int, limit: int
) -> list[SyncTask]:
    """The `limit` riskiest tasks: gone to zero, least cover, fastest selling, smallest."""

    def risk(task: SyncTask) -> tuple[int, float, float, int]:
        went_to_zero = task.desired == 0 and (task.pushed_quantity or 0) > 0
        per_day = velocity.get(task.listing, 0) / days
        cover = task.desired / per_day if per_day > 0 else math.inf
        return (0 if went_to_zero else 1, cover, -per_day, task.desired)

    return sorted(tasks, key=risk)[:limit]


def claim(
    app: Services, channel: str, *, owner: str, limit: int, lease_seconds: float
) -> list[SyncTask]:
    """Lease up to `limit` due outbox rows of a channel, riskiest first."""
    code, now = ChannelCode(channel), app.clock()
    with app.uow() as uow:
        candidates = uow.sync.candidates(code, now=now, limit=limit * CANDIDATES_PER_SLOT)
        if not candidates:
            return []
        velocity = uow.sync.velocity(code, since=now - timedelta(days=VELOCITY_DAYS))
        chosen = prioritise(candidates, velocity, days=VELOCITY_DAYS, limit=limit)
        uow.sync.lease(
            [t.row_id for t in chosen], owner=owner, until=now + timedelta(seconds=lease_seconds)
        )
        uow.commit()
    return chosen


@dataclass(frozen=True)
class Retry:
    """A pushed task to try again at `at`; `outcome` names a failure (None: not one)."""

    task: SyncTask
    at: datetime
    outcome: str | None = None
    error: str | None = None


def record(
    app: Services,
    *,
    channel: str,
    owner: str,
    acknowledged: Sequence[tuple[SyncTask, str | None]],
    retries: Sequence[Retry] = (),
    channel_quantities: Mapping[int, int | None] | None = None,
) -> None:
    """Record, in one transaction, what the channel acknowledged and what is to be retried."""
    now = app.clock()
    with app.uow() as uow:
        for task, response_id in acknowledged:
            uow.sync.acknowledge(
                task, quantity=task.desired, response_id=response_id, owner=owner, at=now
            )
        publish(uow, app, sync_events(ChannelCode(channel), acknowledged, retries))
        for retry in retries:
            uow.sync.release(
                retry.task,
                owner=owner,
                next_attempt_at=retry.at,
                outcome=retry.outcome,
                error=retry.error,
                at=now,
            )
        if channel_quantities:
            uow.sync.set_channel_quantity(channel_quantities)
        uow.commit()


def backoff(attempts: int, *, base: float, cap: float, rnd: random.Random) -> float:
    """Seconds before the next attempt: exponential in the attempts, with full jitter."""
    return rnd.uniform(0, min(cap, base * 2 ** min(attempts, 30)))


@dataclass(frozen=True)
class OrderSnapshot:
    """A channel's order as the channel has it now, with its lines by channel item id."""

    external_id: str
    updated_at: datetime
    cancelled: bool
    lines: tuple[tuple[str, int], ...]


def ingest_orders(app: Services, channel: str, snapshots: Sequence[OrderSnapshot]) -> int:
    """Record the channel's orders (exactly once each, newest snapshot wins).

    Lines of items not mapped to a listing are left out; an order with none of ours is
    skipped. Returns the number of orders that changed.

    A changed order means the channel changed its own count of the order's listings (it
    sold, or restocked on a cancellation): what it holds is unknown now, and our ATS is
    queued for those listings even where it did not change (a buffer or a maximum can keep
    it where it was while the channel's count moved).
    """
    code = ChannelCode(channel)
    with app.uow() as uow:
        by_item = uow.sync.listings_by_item(code)
    changed, moved = 0, set[ListingId]()
    for snap in snapshots:
        units: dict[ListingId, int] = {}
        for item, quantity in snap.lines:
            if item in by_item:
                units[by_item[item]] = units.get(by_item[item], 0) + quantity
        lines = tuple(LineRequest(listing, qty) for listing, qty in sorted(units.items()))
        if not lines:
            continue
        kind = NotificationKind.CANCEL if snap.cancelled else NotificationKind.UPDATE
        note = orders.Notification(kind, channel, snap.external_id, snap.updated_at, lines)
        if orders.ingest(app, note, actor=SYNC_ACTOR).action != "ignored":
            changed += 1
            moved.update(units)
    if moved:
        _channel_moved(app, code, moved)
    return changed


def _channel_moved(app: Services, channel: ChannelCode, moved: Collection[ListingId]) -> None:
    with app.uow() as uow:
        rows = [s.row_id for s in uow.sync.states(channel) if s.listing in moved]
        uow.sync.set_channel_quantity(dict.fromkeys(rows))
        uow.sync.enqueue_current(channel, rows, at=app.clock())
        uow.commit()


def stored_order_time(app: Services, channel: str, external_id: str) -> datetime | None:
    """The channel update time of the newest snapshot recorded of an order (None: unknown)."""
    with app.uow() as uow:
        found = uow.orders.find(ChannelCode(channel), external_id)
    return None if found is None else found[1].channel_updated_at


def advance_orders_cursor(app: Services, channel: str, cursor: datetime) -> None:
    """Remember that the channel's orders were read up to `cursor`."""
    with app.uow() as uow:
        uow.sync.set_orders_cursor(ChannelCode(channel), cursor)
        uow.commit()


def states(app: Services, channel: str) -> list[SyncState]:
    """Every mapped listing of a channel with its ATS and last acknowledged push."""
    with app.uow() as uow:
        return uow.sync.states(ChannelCode(channel))


@dataclass(frozen=True)
class Drift:
    """A listing whose channel quantity is not what the channel should show.

    Attributes:
        listing: the listing; expected: what the channel should show (last acknowledged
        push minus the channel's orders since, net of their cancellations); actual: what it
        shows; since: when the difference was first seen; cause: the likely cause.
    """

    listing: ListingId
    expected: int
    actual: int | None
    since: datetime
    cause: str


def _cause(expected: int, actual: int | None) -> str:
    if actual is None:
        return "the item is not stocked at the mapped channel location"
    if actual < expected:
        return "the channel sold units we have not ingested (missed order?) or was edited"
    return "raised on the channel outside stockpool (manual edit, restock or missed cancellation)"


def reconcile(
    app: Services, channel: str, actual: Mapping[int, int | None], *, heal: bool
) -> list[Drift]:
    """Compare what the channel shows with what it should, record drift, heal if asked.

    Listings with a push in flight are skipped: their channel value is about to change, and
    a value we pushed ourselves (an echo) is never drift. Healing queues our ATS with the
    channel's quantity unknown: the push reads it back and catches up on the channel's
    orders first, since the value read here may include a sale not yet ingested, and a
    compare-and-set against it would let our push undo that sale.
    """
    code, now = ChannelCode(channel), app.clock()
    found: list[Drift] = []
    with app.uow() as uow:
        mapped = [s for s in uow.sync.states(code) if s.row_id in actual and not s.pending]
        sold = uow.sync.units_since_each(
            code, {s.listing: s.pushed_at for s in mapped if s.pushed_at is not None}
        )
        matched: list[int] = []
        healing: dict[int, int | None] = {}
        for state in mapped:
            drift = _drift(uow, state, actual[state.row_id], sold, at=now)
            if drift is None:
                matched.append(state.row_id)
                continue
            found.append(drift)
            if drift.actual is not None:
                healing[state.row_id] = None
        uow.sync.clear_drift(matched)
        publish(uow, app, [drift_event(code, x) for x in found])
        if heal and healing:
            uow.sync.set_channel_quantity(healing)
            uow.sync.enqueue_current(code, list(healing), at=now)
            uow.sync.clear_drift(list(healing))
        uow.commit()
    return found


def _drift(
    uow: UnitOfWork,
    state: SyncState,
    seen: int | None,
    sold: Mapping[ListingId, int],
    *,
    at: datetime,
) -> Drift | None:
    """A listing's drift, recorded (None: the channel shows what it should, or our ATS)."""
    expected = _expected(state, sold)
    if seen is not None and seen in (expected, state.ats):
        return None
    cause = _cause(expected, seen)
    since = uow.sync.save_drift(
        state.row_id, expected=expected, actual=-1 if seen is None else seen, cause=cause, at=at
    )
    return Drift(state.listing, expected, seen, since, cause)


def _expected(state: SyncState, sold: Mapping[ListingId, int]) -> int:
    """The last acknowledged push less the channel's orders since (net of cancellations)."""
    if state.pushed_quantity is None or state.pushed_at is None:
        return state.ats
    return int(state.pushed_quantity - sold.get(state.listing, 0))


@dataclass(frozen=True)
class ChannelStatus:
    """One channel's sync health over the last hour."""

    channel: str
    p50_ms: int | None
    p99_ms: int | None
    acknowledged: int
    queue_depth: int
    failures: int
    failing_now: int
    last_success: datetime | None
    drift: int


def percentile(values: Sequence[int], share: float) -> int | None:
    """The nearest-rank percentile of sorted values (None if there are none)."""
    if not values:
        return None
    return values[max(0, math.ceil(share * len(values)) - 1)]


def status(app: Services, *, window: timedelta = timedelta(hours=1)) -> list[ChannelStatus]:
    """Per connected channel: lag p50/p99, queue depth, failures, last success, drift."""
    since = app.clock() - window
    with app.uow() as uow:
        healths: list[SyncHealth] = [
            uow.sync.health(c.channel, since=since) for c in uow.sync.connections()
        ]
    return [
        ChannelStatus(
            h.channel,
            percentile(h.lags_ms, 0.5),
            percentile(h.lags_ms, 0.99),
            len(h.lags_ms),
            h.queue_depth,
            h.failures,
            h.failing_now,
            h.last_success,
            h.drift,
        )
        for h in healths
    ]


def pending_deliveries(app: Services, kind: str, *, limit: int = 100) -> list[InboundDelivery]:
    """Stored channel webhooks of a channel kind not yet processed, oldest first."""
    with app.uow() as uow:
        return uow.events.unprocessed_inbound(
            channels=[kind], limit=limit, max_attempts=MAX_PROCESSING_ATTEMPTS
        )


def finish_delivery(app: Services, delivery_id: int, *, error: str | None) -> None:
    """Mark a stored webhook processed, or record why processing failed (it is retried)."""
    with app.uow() as uow:
        uow.events.mark_inbound(
            delivery_id, processed_at=None if error else app.clock(), error=error
        )
        uow.commit()
