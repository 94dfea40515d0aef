"""Simulated live traffic: orders on several channels and a receipt now and then.

`Traffic.tick` places the orders due in one interval: marketplace orders are ingested
(the channel accepted them already), Shopify and wholesale orders go through
check-and-reserve and may be refused when a listing runs dry. With a fake Shopify linked
(`live_shop`), Shopify's share is bought on the fake shop by its own customers instead, and
reaches us as the shop's orders. Every so often a delivery arrives at the warehouse.
`hot_skus` picks a few best sellers to watch and `ats_table` reads their available-to-sell
on every channel.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from stockpool.demo.shoppers import ShopCustomers
from stockpool.domain.errors import StockpoolError
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, NotificationKind
from stockpool.services import channels, orders, stock
from stockpool.services.context import Services
from stockpool.services.stock import Actor

_RESERVED = ("shopify", "wholesale")
_CHANNEL_WEIGHTS = {"shopify": 0.45, "amazon": 0.2, "walmart": 0.15, "ebay": 0.1,
                    "wholesale": 0.1}  # fmt: skip


@dataclass
class TrafficCounts:
    """What the traffic did so far."""

    accepted: int = 0
    refused: int = 0
    receipts: int = 0
    per_channel: dict[str, int] = field(default_factory=dict)


def hot_skus(app: Services, count: int) -> list[str]:
    """Items sold on the most channels, with the most to sell: the ones worth watching."""
    channels_of: dict[str, set[str]] = {}
    ats: dict[str, int] = {}
    for listing in channels.list_listings(app):
        if not listing.is_bundle:
            channels_of.setdefault(listing.sku, set()).add(listing.channel)
            if listing.channel == "shopify" and listing.units == 1:
                ats[listing.sku] = listing.ats
    ranked = sorted(channels_of, key=lambda s: (-len(channels_of[s]), -ats.get(s, 0), s))
    return ranked[:count]


def ats_table(app: Services, skus: list[str]) -> dict[str, dict[str, int]]:
    """SKU -> channel -> ATS of its single-unit listing (else of its first multipack)."""
    table: dict[str, dict[str, int]] = {}
    for sku in skus:
        row: dict[str, int] = {}
        found = channels.list_listings(app, sku=sku)
        for listing in sorted(found, key=lambda x: x.units):
            row.setdefault(listing.channel, listing.ats)
        table[sku] = row
    return table


class Traffic:
    """Orders on the watched SKUs' listings, receipts now and then; Shopify's orders on
    `shop` when given."""

    def __init__(
        self, app: Services, skus: list[str], *, seed: int = 1, shop: ShopCustomers | None = None
    ) -> None:
        self.app, self.shop = app, shop
        self.rng = np.random.default_rng(seed)
        self.counts = TrafficCounts()
        self._numbers = itertools.count(1)
        self._listings: dict[str, list[tuple[str, int]]] = {}
        for sku in skus:
            for listing in channels.list_listings(self.app, sku=sku):
                if listing.channel in _CHANNEL_WEIGHTS:
                    entry = (listing.listing_id, listing.units)
                    self._listings.setdefault(listing.channel, []).append(entry)
        self._skus = skus
        self._run = f"{int(self.rng.integers(10**6, 10**7))}"

    def tick(self, orders_due: int) -> None:
        """Place `orders_due` orders, and a receipt about once in forty orders."""
        names = [c for c in _CHANNEL_WEIGHTS if c in self._listings]
        if not names:
            return
        weights = np.array([_CHANNEL_WEIGHTS[c] for c in names])
        for _ in range(orders_due):
            channel = names[int(self.rng.choice(len(names), p=weights / weights.sum()))]
            self._order(channel)
            if self.rng.random() < 1 / 40:
                self._receipt()

    def _order(self, channel: str) -> None:
        options = self._listings[channel]
        listing, _ = options[int(self.rng.integers(len(options)))]
        quantity = 1 if self.rng.random() < 0.85 else 2
        if channel == "shopify" and self.shop is not None:
            self.shop.buy(listing, quantity)
            return
        external = f"LIVE-{self._run}-{next(self._numbers)}"
        line = LineRequest(ListingId(listing), quantity)
        actor = Actor("demo:live")
        try:
            if channel in _RESERVED:
                orders.reserve(self.app, channel, external, [line], actor=actor)
            else:
                note = orders.Notification(
                    NotificationKind.CREATE, channel, external, self.app.clock(), (line,)
                )
                orders.ingest(self.app, note, actor=actor)
        except StockpoolError:
            self.counts.refused += 1
            return
        self.counts.accepted += 1
        self.counts.per_channel[channel] = self.counts.per_channel.get(channel, 0) + 1

    def _receipt(self) -> None:
        sku = self._skus[int(self.rng.integers(len(self._skus)))]
        units = int(self.rng.integers(6, 37))
        stock.receive(self.app, sku, "WH", units, actor=Actor("demo:live", "live-delivery"))
        self.counts.receipts += 1
