"""The fake Shopify's own customers: they buy what the shop shows, before we hear of it.

A purchase lowers the shop's `available` at once and queues a signed `orders/create`
webhook (some sent twice, some lost, by the shop's chaos settings). The webhooks are then
handed to stockpool's receiver; a lost one is found by the order poll, or when a push's
compare-and-set fails because the shop sold something we have not heard of.
"""

from __future__ import annotations

from dataclasses import dataclass

from stockpool.demo.shop_link import ShopLink
from stockpool.demo.shop_server import FakeShopServer
from stockpool.fakes.shopify import Delivery


@dataclass
class ShopCounts:
    """What the shop's customers did so far."""

    orders: int = 0
    units: int = 0
    sold_out: int = 0
    webhooks: int = 0


class ShopCustomers:
    """Customers of the fake shop served by `server`, buying the listings of `link`."""

    def __init__(self, server: FakeShopServer, link: ShopLink) -> None:
        self.server, self.link = server, link
        self.counts = ShopCounts()
        self.bought: set[str] = set()

    def buy(self, listing: str, quantity: int) -> bool:
        """A customer orders `quantity` of a listing; False if the shop shows too few."""
        item, fake = self.link.items[listing], self.server.fake
        order = self.server.call(lambda: fake.sell([(item, quantity)], self.link.location))
        if order is None:
            self.counts.sold_out += 1
            return False
        self.counts.orders += 1
        self.counts.units += quantity
        self.bought.add(listing)
        return True

    def webhooks(self, *, everything: bool = False) -> list[Delivery]:
        """The webhooks the shop sends now (with `everything`: held ones too, no chaos)."""
        fake = self.server.fake

        def take() -> list[Delivery]:
            fake.requests.clear()  # the fake logs every API call for tests; a demo runs long
            return fake.take_webhooks(everything=everything)

        sent = self.server.call(take)
        self.counts.webhooks += len(sent)
        return sent

    def shows(self, listing: str) -> int | None:
        """What the shop shows as available for a listing (None: not stocked there)."""
        return self.server.fake.levels.get((self.link.items[listing], self.link.location))
