"""A fake Shopify beside `stockpool demo run --fake-shopify`.

The shop is served on 127.0.0.1 (see `shop_server`) and linked to the demo's Shopify channel
(see `shop_link`); the dispatcher that runs beside the API finds the connection by itself.
The shop's own customers buy the hot SKUs now and then on the shop's loop, and the shop
posts its signed order webhooks to the API's `/webhooks/shopify`, as Shopify would; a
webhook that does not get through is found by the dispatcher's order poll. It runs until
the process ends; the next `demo run` or `demo live` replaces the link.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import numpy as np

from stockpool.demo.shop_link import ShopLink, fake_shop, link
from stockpool.demo.shop_server import FakeShopServer
from stockpool.fakes.shopify import FakeShopify
from stockpool.services import channels
from stockpool.services.context import Services


class ServedShop:
    """The fake shop, its link and its customers (start with `start`)."""

    def __init__(
        self, app: Services, skus: list[str], *, api_url: str, every: float = 2.0, seed: int = 1
    ) -> None:
        self.app, self.api_url, self.every = app, api_url.rstrip("/"), every
        self.rng = np.random.default_rng(seed)
        clock_ms = int(app.clock().timestamp() * 1000)
        self.fake: FakeShopify = fake_shop(seed=seed, clock_ms=clock_ms)
        self.server = FakeShopServer(self.fake)
        self.listings = [
            x.listing_id
            for sku in skus
            for x in channels.list_listings(app, channel="shopify", sku=sku)
            if not x.is_bundle
        ]
        self.orders = 0

    def start(self) -> str:
        """Link the channel, serve the shop and let its customers in; the shop's URL."""
        shop_link = link(self.app, self.fake, self.server.base_url)
        self.server.start()
        self.server.submit(self._customers(shop_link))
        return self.server.base_url

    async def _customers(self, shop_link: ShopLink) -> None:
        """Runs on the shop's loop: a purchase every `every` seconds on average."""
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            while self.listings:
                await asyncio.sleep(float(self.rng.exponential(self.every)))
                listing = self.listings[int(self.rng.integers(len(self.listings)))]
                quantity = 1 if self.rng.random() < 0.85 else 2
                item = shop_link.items[listing]
                if self.fake.sell([(item, quantity)], shop_link.location) is not None:
                    self.orders += 1
                self.fake.requests.clear()  # the fake logs every API call for tests
                for delivery in self.fake.take_webhooks():
                    await self._post(client, delivery.headers, delivery.body)

    async def _post(self, client: httpx.AsyncClient, headers: dict[str, str], body: bytes) -> None:
        # If the API is not up yet or busy, the dispatcher's order poll finds the order.
        with contextlib.suppress(httpx.HTTPError):
            await client.post(f"{self.api_url}/webhooks/shopify", content=body, headers=headers)

    def stop(self) -> None:
        """Stop serving (the link stays until the next demo replaces it)."""
        self.server.stop()
