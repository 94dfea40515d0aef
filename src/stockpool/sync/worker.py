"""One channel's sync worker: push the outbox, ingest the channel's orders.

A push round claims the riskiest due rows (one transaction), reads the channel's quantity
of those it does not know, pushes the rest in one write with compare-and-set (no
transaction open), then records acknowledgements and retries (one transaction). A stale
compare-and-set means the channel sold something we have not heard of: the worker catches
up on the channel's orders, forgets what it thought the channel held, and the next round
reads it back and pushes the recomputed value with a new idempotency key.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
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
from stockpool.services.ports import ChannelConnection, SyncTask
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
        try:
            tasks = await self._known(tasks)
            await self._push(tasks)
        except ChannelError as exc:
            self._failed(tasks, exc)
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

    async def _known(self, tasks: list[SyncTask]) -> list[SyncTask]:
        """Tasks with the channel's current quantity filled in where we did not know it."""
        unknown = [t for t in tasks if t.channel_quantity is None]
        if not unknown:
            return tasks
        read = await self.connector.fetch_quantities(
            [RemoteRef(t.item, t.location) for t in unknown]
        )
        self.budget.observe(self.connector.rate)
        found = {t.row_id: read.get(RemoteRef(t.item, t.location)) for t in unknown}
        missing = [t for t in unknown if found[t.row_id] is None]
        sync.record(
            self.app,
            owner=self.owner,
            acknowledged=(),
            retries=[
                Retry(
                    t,
                    self._later(self.settings.park_seconds),
                    "invalid_listing",
                    "the channel does not stock this item at this location",
                )
                for t in missing
            ],
            channel_quantities={r: q for r, q in found.items() if q is not None},
        )
        gone = {t.row_id for t in missing}
        return [
            replace(t, channel_quantity=found.get(t.row_id, t.channel_quantity))
            for t in tasks
            if t.row_id not in gone
        ]

    async def _push(self, tasks: Sequence[SyncTask]) -> None:
        unchanged: list[tuple[SyncTask, str | None]] = [
            (t, "unchanged") for t in tasks if t.channel_quantity == t.desired
        ]
        to_push = [t for t in tasks if t.channel_quantity != t.desired]
        result = PushResult((), None)
        if to_push:
            self.budget.spend(self.settings.push_cost)
            result = await self.connector.push_quantities(
                [
                    QuantityPush(
                        t.listing,
                        RemoteRef(t.item, t.location),
                        t.desired,
                        t.channel_quantity,
                        t.version,
                    )
                    for t in to_push
                ]
            )
            self.budget.observe(self.connector.rate)
        await self._record(to_push, result, unchanged)

    async def _record(
        self,
        tasks: Sequence[SyncTask],
        result: PushResult,
        unchanged: list[tuple[SyncTask, str | None]],
    ) -> None:
        by_listing: dict[str, SyncTask] = {t.listing: t for t in tasks}
        acknowledged = list(unchanged)
        retries: list[Retry] = []
        stale: dict[int, int | None] = {}
        now, park = self.app.clock(), self._later(self.settings.park_seconds)
        for item in result.items:
            task = by_listing[item.push.listing]
            if item.status is PushStatus.APPLIED:
                acknowledged.append((task, result.response_id))
            elif item.status is PushStatus.STALE:
                stale[task.row_id] = None
                retries.append(Retry(task, now, "stale", item.message))
            elif item.status is PushStatus.NOT_APPLIED:
                retries.append(Retry(task, now))
            else:
                retries.append(Retry(task, park, item.status.value, item.message))
        sync.record(
            self.app,
            owner=self.owner,
            acknowledged=acknowledged,
            retries=retries,
            channel_quantities=stale,
        )
        if stale:
            await self.catch_up()

    def _failed(self, tasks: Sequence[SyncTask], exc: ChannelError) -> None:
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
        sync.record(self.app, owner=self.owner, acknowledged=(), retries=retries)

    async def _read(self, call: Callable[[], Awaitable[T]]) -> T:
        """A read within the rate budget, waiting out throttling a few times."""
        for _ in range(self.settings.throttle_retries):
            wait = self.budget.wait_for(self.settings.read_cost)
            if wait > 0:
                await self._sleep(wait)
            try:
                return await call()
            except Throttled as exc:
                self.budget.throttled(exc.retry_after)
            finally:
                self.budget.observe(self.connector.rate)
        return await call()

    async def read_back(self) -> dict[int, int | None]:
        """The channel's quantity of every mapped listing, by listing row."""
        states = sync.states(self.app, self.channel)
        refs = [RemoteRef(s.item, s.location) for s in states]
        found: dict[RemoteRef, int | None] = {}
        for start in range(0, len(refs), READ_CHUNK):
            part = refs[start : start + READ_CHUNK]
            found.update(await self._read(partial(self.connector.fetch_quantities, part)))
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
            page = await self._read(partial(self.connector.fetch_orders, since, cursor=cursor))
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
        order = await self._read(lambda: self.connector.fetch_order(order_id))
        if order is not None:
            sync.ingest_orders(self.app, self.channel, [_snapshot(order)])
