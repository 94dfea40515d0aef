"""A shop on both stores wired to a fake Shopify through the sync worker (in-process)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import httpx

from stockpool.channels.shopify import ShopifyConnector, ShopifySettings, verify_webhook
from stockpool.fakes.shopify import Bucket, FakeShopify
from stockpool.services import catalog, channels, orders, rules, stock, sync, webhooks_in
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.webhooks_in import WebhookRegistry
from stockpool.sync.worker import ChannelWorker, SyncSettings
from tests.conftest import FakeClock

T = TypeVar("T")
ME = Actor("tester")
LOC = "gid://shopify/Location/1"
ITEMS = {"TEE": "gid://shopify/InventoryItem/1", "CAP": "gid://shopify/InventoryItem/2"}


class Rig:
    """Our shop (WH1 with TEE and CAP; channels `shop` on Shopify and `web` of our own) and
    the fake Shopify that `shop` is connected to; `buffer` units are held back from `shop`."""

    def __init__(
        self, app: Services, clock: FakeClock, *, stock_each: int = 10, buffer: int = 0
    ) -> None:
        self.app, self.clock = app, clock
        self.fake = FakeShopify(clock=clock, bucket=Bucket(available=1000, restore_rate=100))
        catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
        channels.add_channel(app, "shop", "shopify", ["WH1"], priority=1)
        channels.add_channel(app, "web", "other", ["WH1"], priority=2)
        if buffer:
            place = rules.place_for(channel="shop")
            rules.set_rule(app, place, {"buffer": buffer}, actor=ME.name)
        for sku, item in ITEMS.items():
            catalog.add_item(app, sku, sku.title())
            stock.receive(app, sku, "WH1", stock_each, actor=ME)
            channels.add_listing(app, "shop", f"S-{sku}", sku)
            channels.add_listing(app, "web", f"W-{sku}", sku)
            self.fake.stock(item, LOC, 0, sku=sku)
        sync.connect(
            app,
            "shop",
            shop=self.fake.shop,
            base_url="http://shop.test",
            token=self.fake.token,
            secrets=[self.fake.secret],
        )
        for sku, item in ITEMS.items():
            sync.map_listing(app, "shop", f"S-{sku}", item=item, location=LOC)
        self.settings = SyncSettings(lease_seconds=30)
        self.registry = WebhookRegistry(verifiers={"shopify": self.verify})
        self._order_no = 0

    def verify(self, headers: Mapping[str, str], body: bytes) -> str:
        return verify_webhook(headers, body, [self.fake.secret])

    def run(self, step: Callable[[ChannelWorker], Awaitable[T]], *, owner: str = "w1") -> T:
        async def go() -> T:
            transport = httpx.ASGITransport(app=self.fake.app)
            async with httpx.AsyncClient(transport=transport) as client:
                connection = sync.connections(self.app)[0]
                settings = ShopifySettings(
                    connection.shop, connection.base_url, connection.token, connection.secrets
                )
                worker = ChannelWorker(
                    self.app,
                    connection,
                    ShopifyConnector(client, settings),
                    owner=owner,
                    settings=self.settings,
                    sleep=self._sleep,
                    seed=1,
                )
                return await step(worker)

        return asyncio.run(go())

    async def _sleep(self, seconds: float) -> None:
        self.clock.advance(seconds=seconds)

    def drain(self) -> int:
        return self.run(lambda w: w.drain())

    def our_order(self, sku: str, quantity: int) -> None:
        self._order_no += 1
        orders.reserve(
            self.app,
            "web",
            f"web-{self._order_no}",
            orders.line_requests([(f"W-{sku}", quantity)]),
            actor=ME,
        )

    def deliver_webhooks(self, *, everything: bool = False) -> int:
        delivered = 0
        for d in self.fake.take_webhooks(everything=everything):
            webhooks_in.receive(self.app, self.registry, "shopify", d.headers, d.body)
            delivered += 1
        return delivered

    def ats(self) -> dict[str, int]:
        return {x.listing_id: x.ats for x in channels.list_listings(self.app, channel="shop")}

    def on_fake(self) -> dict[str, int]:
        return {f"S-{sku}": self.fake.available(item, LOC) for sku, item in ITEMS.items()}
