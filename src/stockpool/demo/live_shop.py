"""The fake Shopify of a live demo: served, linked, kept in step, with its own customers.

`LiveShop` wraps the live traffic as an async context manager. On entry it stocks a fresh
fake shop with every listing of the demo's Shopify channel (see `shop_link`), serves it on
127.0.0.1, connects the channel to it and runs the sync dispatcher as a task of the running
loop, so that every change of our available-to-sell is pushed to the shop. `deliver` hands
the shop's webhooks to stockpool's receiver (`webhooks_in.receive`, what the API's
`/webhooks/shopify` route calls), and the dispatcher fetches and ingests each order. `drain`
brings both sides in step; on exit the shop is drained, stopped and unlinked.

The dispatcher is passed in (`make_sync`) because the demo sits beside `stockpool.sync` in
the layers, not above it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Protocol, Self

import httpx

from stockpool.channels.protocol import Connector, RemoteRef
from stockpool.demo.shop_link import CHANNEL, ShopLink, fake_shop, link, requeue, unlink
from stockpool.demo.shop_server import FakeShopServer
from stockpool.demo.shoppers import ShopCounts, ShopCustomers
from stockpool.services import channels, sync, webhooks_in
from stockpool.services.context import Services
from stockpool.services.webhooks_in import WebhookRegistry

EXIT_DRAIN_SECONDS = 15.0


class ChannelSide(Protocol):
    """What the demo needs of one channel's sync worker."""

    async def catch_up(self) -> int:
        """Poll the channel's orders and ingest them; the number that changed."""
        ...

    @property
    def connector(self) -> Connector:
        """The channel's connector."""
        ...


class SyncRunner(Protocol):
    """What the demo needs of the sync dispatcher (`stockpool.sync.dispatcher.Dispatcher`)."""

    @property
    def workers(self) -> Mapping[str, ChannelSide]:
        """The worker of each connected channel."""
        ...

    def refresh(self, channels: list[str] | None = None) -> None:
        """Start workers for connected channels."""
        ...

    async def pass_once(self) -> int:
        """One pass over every channel; the outbox rows handled."""
        ...


MakeSync = Callable[[Services, httpx.AsyncClient], SyncRunner]


@dataclass(frozen=True)
class ShopView:
    """The shop's side of the live table.

    Attributes:
        shows: SKU -> what the shop shows for its single-unit listing (None: not listed).
        counts: what the shop's customers did.
        p50_ms, p99_ms: lag from a change of our ATS to the shop's acknowledgement.
        queue: listings waiting for a push.
    """

    shows: dict[str, int | None]
    counts: ShopCounts
    p50_ms: int | None
    p99_ms: int | None
    queue: int


class LiveShop:
    """A fake Shopify beside the live traffic (use with `async with`)."""

    def __init__(
        self,
        app: Services,
        *,
        make_sync: MakeSync,
        registry: WebhookRegistry,
        seed: int = 1,
        idle_seconds: float = 0.05,
    ) -> None:
        self.app, self.registry = app, registry
        self._make_sync, self._seed, self._idle = make_sync, seed, idle_seconds
        self._halting = False
        self.in_step = False
        self.failure = ""
        self._task: asyncio.Task[None] | None = None
        self._started = time.monotonic()

    async def __aenter__(self) -> Self:
        clock_ms = int(self.app.clock().timestamp() * 1000)
        fake = fake_shop(seed=self._seed, clock_ms=clock_ms)
        self.server = FakeShopServer(fake)
        try:
            self.link: ShopLink = link(self.app, fake, self.server.base_url)
        except BaseException:
            self.server.stop()
            raise
        try:
            self.server.start()
            self.client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
            self.runner = self._make_sync(self.app, self.client)
            self.runner.refresh([CHANNEL])
        except BaseException:
            unlink(self.app)
            self.server.stop()
            raise
        self.customers = ShopCustomers(self.server, self.link)
        self._started = time.monotonic()
        self._task = asyncio.create_task(self._dispatch())
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None or not issubclass(kind, Exception):
                await self.drain(timeout=EXIT_DRAIN_SECONDS)
        except TimeoutError:
            pass  # `in_step` says so; the shop is going away either way
        finally:
            await self._halt()
            unlink(self.app)
            await self.client.aclose()
            self.server.stop()

    async def _dispatch(self) -> None:
        try:
            while not self._halting:
                if await self.runner.pass_once() == 0:
                    await asyncio.sleep(self._idle)
        except Exception as exc:  # shown in the view; `drain` meets it again if it lasts
            self.failure = f"the sync dispatcher stopped: {type(exc).__name__}: {exc}"

    async def _halt(self) -> None:
        """Stop the background dispatcher after its current pass."""
        self._halting = True
        if self._task is not None:
            task, self._task = self._task, None
            await task

    def deliver(self, *, everything: bool = False) -> int:
        """Hand the shop's pending webhooks to our receiver; the number delivered."""
        sent = self.customers.webhooks(everything=everything)
        for delivery in sent:
            webhooks_in.receive(self.app, self.registry, "shopify", delivery.headers, delivery.body)
        return len(sent)

    def _settled(self) -> bool:
        pending = sync.pending_deliveries(self.app, "shopify", limit=1)
        return not pending and not any(s.pending for s in sync.states(self.app, CHANNEL))

    async def _settle(self, deadline: float) -> None:
        """Push and ingest until nothing is pending and a poll of the shop's orders finds
        nothing new."""
        worker = self.runner.workers[CHANNEL]
        while time.monotonic() < deadline:
            if await self.runner.pass_once() > 0 or not self._settled():
                await asyncio.sleep(0.02)
                continue
            if await worker.catch_up() == 0 and self._settled():
                return
        raise TimeoutError("the fake Shopify was not in step in time")

    async def _heal(self) -> int:
        """Read back what the shop shows for the listings its customers bought and queue a
        push where it differs from our ATS; the number queued."""
        refs = {
            listing: RemoteRef(self.link.items[listing], self.link.location)
            for listing in sorted(self.customers.bought)
        }
        connector = self.runner.workers[CHANNEL].connector
        shown = await connector.fetch_quantities(list(refs.values())) if refs else {}
        differ: dict[int, int] = {}
        for state in sync.states(self.app, CHANNEL):
            quantity = shown.get(refs[state.listing]) if state.listing in refs else None
            if quantity is not None and quantity != state.ats:
                differ[state.row_id] = quantity
        requeue(self.app, differ)
        return len(differ)

    async def drain(self, *, timeout: float = 30.0, heal: bool = True) -> int:
        """Bring both sides in step, ending the background dispatching: deliver every webhook
        the shop still holds, push and ingest until nothing is pending, then (with `heal`)
        read back what the shop shows for the listings its customers bought, and push again
        where it differs from our ATS.

        That last step covers a gap of the sync: the shop's own sale lowers what it shows
        even when it leaves our ATS unchanged (another channel's protection shrinks with the
        pool), and then no push follows by itself.

        Returns:
            The number of listings the final read-back found different.

        Raises:
            TimeoutError: both sides were not in step within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        self.in_step = False
        await self._halt()
        self.deliver(everything=True)
        await self._settle(deadline)
        healed = await self._heal() if heal else 0
        if healed:
            await self._settle(deadline)
        self.in_step = True
        return healed

    def view(self, skus: list[str]) -> ShopView:
        """What the shop shows for the watched SKUs, and how the sync keeps up."""
        shows: dict[str, int | None] = {}
        for sku in skus:
            found = channels.list_listings(self.app, channel=CHANNEL, sku=sku)
            single = sorted((x.units, x.listing_id) for x in found if not x.is_bundle)
            shows[sku] = self.customers.shows(single[0][1]) if single else None
        window = timedelta(seconds=max(1.0, time.monotonic() - self._started))
        health = [s for s in sync.status(self.app, window=window) if s.channel == CHANNEL]
        p50, p99, queue = (
            (health[0].p50_ms, health[0].p99_ms, health[0].queue_depth)
            if health
            else (None, None, 0)
        )
        return ShopView(shows, self.customers.counts, p50, p99, queue)
