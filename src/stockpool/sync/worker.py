"""One channel's sync worker: push the outbox, ingest the channel's orders.

A push round claims the riskiest due rows (one transaction) and pushes them in one write
with compare-and-set against the quantity the channel last held as far as we know (no
transaction open), then records acknowledgements and retries (one transaction). Every
value is pushed, even one equal to that quantity: the channel may have sold or restocked
since, and only the compare-and-set finds out.

A compare-and-set is only as good as the quantity it compares with: every unit the channel
sold before it held that quantity must be in the value we push. So a quantity we do not
know is read first, then the channel's orders are caught up (everything it sold before the
read is now ours), and only then is the read recorded; the rows go back to the outbox and
the next round pushes their recomputed values against it. A stale compare-and-set means
the channel sold something we have not heard of: the row's quantity becomes unknown and
goes round that loop again, with a new idempotency key (the attempt is part of it).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from stockpool.channels.errors import AuthExpired, ChannelError, Throttled
from stockpool.channels.protocol import (
    ChannelOrder,
    Connector,
    PushResult,
    PushStatus,
    QuantityPush,
    RemoteRef,
)
from stockpool.services import sync
from stockpool.services.context import Services
from stockpool.services.ports import ChannelConnection, SyncState, SyncTask
from stockpool.services.sync import Retry
from stockpool.sync.budget import RateBudget

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]
READ_CHUNK = 100
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})


@dataclass(frozen=True)
class SyncSettings:
    """How a worker paces itself.

    Attributes:
        lease_seconds: how long a claimed row is ours before another worker may take it.
        batch: the most quantities per write (also capped by the channel).
        push_cost: what one write costs in the channel's rate units.
        backoff_base, backoff_cap: exponential backoff of transient failures, in seconds.
        park_seconds: how long a row the channel refused waits before the next try.
        overlap: how far back each order poll starts before the last one's end.
        first_poll: how far back the very first order poll looks.
        read_cost: what a read is assumed to cost until the channel has reported one.
        throttle_retries: how often a read waits out throttling before giving up.
    """

    lease_seconds: float = 30.0
    batch: int = 250
    push_cost: float = 10.0
    backoff_base: float = 0.5
    backoff_cap: float = 60.0
    park_seconds: float = 3600.0
    overlap: timedelta = timedelta(minutes=5)
    first_poll: timedelta = timedelta(days=1)
    read_cost: float = 700.0
    throttle_retries: int = 5


def _snapshot(order: ChannelOrder) -> sync.OrderSnapshot:
    lines = tuple((line.remote_item, line.quantity) for line in order.lines)
    return sync.OrderSnapshot(order.external_id, order.updated_at, order.cancelled, lines)


def _quantity_push(task: SyncTask) -> QuantityPush:
    ref = RemoteRef(task.item, task.location)
    return QuantityPush(
        task.listing, ref, task.desired, task.channel_quantity, task.version, task.attempts
    )


class ChannelWorker:
    """Keeps one connected channel in step with our ATS."""

    def __init__(
        self,
        app: Services,
        connection: ChannelConnection,
        connector: Connector,
        *,
        owner: str,
        settings: SyncSettings | None = None,
        sleep: Sleep = asyncio.sleep,
        seed: int | None = None,
    ) -> None:
        self.app, self.connection, self.connector = app, connection, connector
        self.channel = connection.channel
        self.owner = owner
        self.settings = settings or SyncSettings()
        self.budget = RateBudget(clock=lambda: app.clock().timestamp())
        self.stopped: str | None = None
        self._sleep = sleep
        self._random = random.Random(seed)
        self._read_costs: dict[str, float] = {}

    def _later(self, seconds: float) -> datetime:
        return self.app.clock() + timedelta(seconds=seconds)

    # -- pushing -------------------------------------------------------------------------

    async def push_once(self) -> int:
        """One round: claim, push, record. Returns the number of rows handled (0: idle)."""
        if self.stopped:
            return 0
        wait = self.budget.wait_for(self.settings.push_cost)
        if wait > 0:
            await self._sleep(wait)
        size = min(self.settings.batch, self.connector.capabilities.max_batch)
        tasks = sync.claim(
            self.app,
            self.channel,
            owner=self.owner,
            limit=size,
            lease_seconds=self.settings.lease_seconds,
        )
        if not tasks:
            return 0
        unknown = [t for t in tasks if t.channel_quantity is None]
        known = [t for t in tasks if t.channel_quantity is not None]
        open_tasks = tasks
        try:
            if unknown:
                await self._learn(unknown)
                open_tasks = known
            if known:
                await self._push(known)
        except ChannelError as exc:
            self._failed(open_tasks, exc)
        return len(tasks)

    async def drain(self, *, rounds: int = 10_000) -> int:
        """Push until nothing is due (or `rounds` rounds). Returns the rows handled."""
        total = 0
        for _ in range(rounds):
            done = await self.push_once()
            if done == 0:
                break
            total += done
        return total

    async def _learn(self, tasks: Sequence[SyncTask]) -> None:
        """Read the channel's quantity of rows we do not know it for, catch up on the
        channel's orders, record what was read, and give the rows back to the outbox."""
        read = await self.connector.fetch_quantities([RemoteRef(t.item, t.location) for t in tasks])
        self.budget.observe(self.connector.rate)
        await self.catch_up()
        found = {t.row_id: read.get(RemoteRef(t.item, t.location)) for t in tasks}
        now, park = self.app.clock(), self._later(self.settings.park_seconds)
        unstocked = "the channel does not stock this item at this location"
        sync.record(
            self.app,
            channel=self.channel,
            owner=self.owner,
            acknowledged=(),
            retries=[
                Retry(t, now)
                if found[t.row_id] is not None
                else Retry(t, park, "invalid_listing", unstocked)
                for t in tasks
            ],
            channel_quantities={r: q for r, q in found.items() if q is not None},
        )

    async def _push(self, tasks: Sequence[SyncTask]) -> None:
        self.budget.spend(self.settings.push_cost)
        result = await self.connector.push_quantities([_quantity_push(t) for t in tasks])
        self.budget.observe(self.connector.rate)
        self._record(tasks, result)

    def _record(self, tasks: Sequence[SyncTask], result: PushResult) -> None:
        by_listing: dict[str, SyncTask] = {t.listing: t for t in tasks}
        acknowledged: list[tuple[SyncTask, str | None]] = []
        retries: list[Retry] = []
        stale: dict[int, int | None] = {}
        now, park = self.app.clock(), self._later(self.settings.park_seconds)
        for item in result.items:
            task = by_listing[item.push.listing]
            if item.status is PushStatus.APPLIED:
                acknowledged.append((task, result.response_id))
            elif item.status is PushStatus.STALE:
                stale[task.row_id] = None  # unknown now: read it back (see `_learn`)
                retries.append(Retry(task, now, "stale", item.message))
            elif item.status is PushStatus.NOT_APPLIED:
                retries.append(Retry(task, now))
            else:
                retries.append(Retry(task, park, item.status.value, item.message))
        sync.record(
            self.app,
            channel=self.channel,
            owner=self.owner,
            acknowledged=acknowledged,
            retries=retries,
            channel_quantities=stale,
        )

    def _failed(self, tasks: Sequence[SyncTask], exc: ChannelError) -> None:
        if not tasks:
            return
        if isinstance(exc, Throttled):
            self.budget.throttled(exc.retry_after)
            at = [self._later(exc.retry_after)] * len(tasks)
        elif exc.retryable:
            at = [
                self._later(
                    sync.backoff(
                        t.attempts,
                        base=self.settings.backoff_base,
                        cap=self.settings.backoff_cap,
                        rnd=self._random,
                    )
                )
                for t in tasks
            ]
        else:
            at = [self._later(self.settings.park_seconds)] * len(tasks)
            if isinstance(exc, AuthExpired):
                self.stopped = f"{exc.kind}: {exc}"
        retries = [
            Retry(t, when, exc.kind, str(exc)[:2000]) for t, when in zip(tasks, at, strict=True)
        ]
        sync.record(
            self.app, channel=self.channel, owner=self.owner, acknowledged=(), retries=retries
        )

    # -- reading -------------------------------------------------------------------------

    def read_cost(self, kind: str) -> float:
        """What a read of this kind costs, as the channel last reported it."""
        return self._read_costs.get(kind, self.settings.read_cost)

    async def _read(self, kind: str, call: Callable[[], Awaitable[T]]) -> T:
        """A read within the rate budget, waiting out throttling a few times."""
        for _ in range(self.settings.throttle_retries):
            wait = self.budget.wait_for(self.read_cost(kind))
            if wait > 0:
                await self._sleep(wait)
            try:
                return await call()
            except Throttled as exc:
                self.budget.throttled(exc.retry_after)
            finally:
                self._observe_read(kind)
        return await call()

    def _observe_read(self, kind: str) -> None:
        rate = self.connector.rate
        self.budget.observe(rate)
        if rate is not None and rate.cost > 0:
            self._read_costs[kind] = rate.cost

    async def read_back(self, states: Sequence[SyncState] | None = None) -> dict[int, int | None]:
        """The channel's quantity of every mapped listing (or of `states`), by listing row."""
        if states is None:
            states = sync.states(self.app, self.channel)
        refs = [RemoteRef(s.item, s.location) for s in states]
        found: dict[RemoteRef, int | None] = {}
        for start in range(0, len(refs), READ_CHUNK):
            part = refs[start : start + READ_CHUNK]
            found.update(
                await self._read("quantities", partial(self.connector.fetch_quantities, part))
            )
        return {s.row_id: found.get(ref) for s, ref in zip(states, refs, strict=True)}

    # -- the channel's orders ------------------------------------------------------------

    async def catch_up(self) -> int:
        """Poll the channel's orders updated since the last poll (less an overlap) and ingest
        them. Returns the number of orders that changed."""
        connection = next(c for c in sync.connections(self.app) if c.channel == self.channel)
        start = connection.orders_cursor or (self.app.clock() - self.settings.first_poll)
        since = start - self.settings.overlap
        changed, newest, cursor = 0, start, None
        while True:
            page = await self._read(
                "orders", partial(self.connector.fetch_orders, since, cursor=cursor)
            )
            changed += sync.ingest_orders(
                self.app, self.channel, [_snapshot(o) for o in page.orders]
            )
            newest = max([newest, *(o.updated_at for o in page.orders)])
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        sync.advance_orders_cursor(self.app, self.channel, newest)
        return changed

    async def process_webhooks(self, *, limit: int = 100) -> int:
        """Process stored order webhooks of this channel's account: fetch each order as the
        channel has it now and ingest it, unless a snapshot as new is recorded already."""
        done = 0
        for delivery in sync.pending_deliveries(self.app, self.connection.kind, limit=limit):
            event = self.connector.parse_webhook(delivery.headers, delivery.body)
            if event.shop != self.connection.shop:
                continue
            error = None
            try:
                await self._apply_webhook(event.topic, event.order_id, event.updated_at)
            except ChannelError as exc:
                error = f"{exc.kind}: {exc}"[:2000]
            sync.finish_delivery(self.app, delivery.id, error=error)
            done += error is None
        return done

    async def _apply_webhook(
        self, topic: str, order_id: str | None, updated_at: datetime | None
    ) -> None:
        if topic not in ORDER_TOPICS or order_id is None:
            return
        stored = sync.stored_order_time(self.app, self.channel, order_id)
        if stored is not None and updated_at is not None and updated_at <= stored:
            return  # a duplicate or an older snapshot than the one recorded
        order = await self._read("order", lambda: self.connector.fetch_order(order_id))
        if order is not None:
            sync.ingest_orders(self.app, self.channel, [_snapshot(order)])
