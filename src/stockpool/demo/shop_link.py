"""The demo's Shopify channel, linked to a fake shop: one inventory item per listing.

A fresh fake shop stocks one inventory item per listing of the channel at one location,
each showing the listing's current available-to-sell: the shop is in step when it is
linked, so nothing needs pushing until something changes (a full first push of thousands
of listings would only confirm what the shop shows). The channel is connected to it
(`services.sync.connect`) and every listing is mapped to its inventory item. The fake's
order ids start at the current time in milliseconds, so that orders of later sessions never
reuse an id already recorded. `unlink` forgets the connection and the mappings again when
the fake goes away.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.fakes.shopify import Bucket, FakeShopify, WebhookChaos
from stockpool.fakes.shopify_orders import OrderBook
from stockpool.services import sync
from stockpool.services.context import Services
from stockpool.store.allocation_tables import channels, listing_ats, listings
from stockpool.store.uow import SqlUnitOfWork

CHANNEL = "shopify"
SHOP = "stockpool-demo.myshopify.com"
LOCATION = "gid://shopify/Location/76543210"
ITEM_BASE = 44_000_000_000  # Shopify's inventory item ids are long numbers


@dataclass(frozen=True)
class ShopLink:
    """Which inventory item of the fake shop each listing of the channel is.

    Attributes:
        channel: our channel.
        location: the shop's location that sells.
        items: listing id -> the shop's inventory item id.
    """

    channel: str
    location: str
    items: dict[str, str]


def fake_shop(
    *, seed: int, clock_ms: int, duplicate: float = 0.1, drop: float = 0.05
) -> FakeShopify:
    """A new fake shop with a Plus-sized rate bucket, whose webhooks are sometimes sent
    twice (`duplicate`) or lost (`drop`), as real ones are."""
    fake = FakeShopify(
        token=f"shpat_{secrets.token_hex(16)}",
        shop=SHOP,
        secret=f"whsec_{secrets.token_hex(16)}",
        bucket=Bucket(maximum=2000, restore_rate=1000, available=2000),
        chaos=WebhookChaos(duplicate=duplicate, drop=drop, seed=seed),
    )
    fake.orders = OrderBook(_numbers=clock_ms)
    return fake


def _sql(app: Services) -> SqlUnitOfWork:
    uow = app.uow()
    if not isinstance(uow, SqlUnitOfWork):
        raise TypeError("the demo's shop is linked through the SQL store")
    return uow


def link(app: Services, fake: FakeShopify, base_url: str, *, channel: str = CHANNEL) -> ShopLink:
    """Connect `channel` to the fake at `base_url`, stock the fake with every listing of the
    channel at its ATS and map the listings to the fake's inventory items.

    Raises:
        InvalidInput: the channel is connected to another shop (not the demo's fake).
    """
    for found in sync.connections(app):
        if found.channel == channel and found.shop != fake.shop:
            raise InvalidInput(f"channel {channel} is connected to {found.shop}, not a demo shop")
    unlink(app, channel=channel)
    # Connected before anything is mapped, so that connecting queues no push.
    sync.connect(
        app, channel, shop=fake.shop, base_url=base_url, token=fake.token, secrets=[fake.secret]
    )
    with _sql(app) as uow:
        query = (
            select(listings.c.id, listings.c.listing_id, listings.c.channel_sku, listing_ats.c.ats)
            .join(channels, channels.c.id == listings.c.channel_id)
            .join(listing_ats, listing_ats.c.listing_row_id == listings.c.id)
            .where(channels.c.code == channel)
            .order_by(listings.c.id)
        )
        items: dict[str, str] = {}
        shown: dict[int, int | None] = {}
        for row_id, listing, channel_sku, ats in uow.connection.execute(query):
            item = f"gid://shopify/InventoryItem/{ITEM_BASE + int(row_id)}"
            items[str(listing)] = item
            fake.stock(item, LOCATION, max(0, int(ats)), sku=str(channel_sku))
            row = uow.sync.map_listing(
                ChannelCode(channel), ListingId(listing), item=item, location=LOCATION
            )
            shown[row] = max(0, int(ats))
        uow.sync.set_channel_quantity(shown)  # what the shop holds is known: no read first
        uow.commit()
    return ShopLink(channel, LOCATION, items)


def requeue(app: Services, shown: dict[int, int], *, channel: str = CHANNEL) -> None:
    """Queue a push of the current ATS of listings (by row) the shop shows as `shown`."""
    if not shown:
        return
    with app.uow() as uow:
        uow.sync.set_channel_quantity(dict(shown))
        uow.sync.enqueue_current(ChannelCode(channel), list(shown), at=app.clock())
        uow.commit()


def unlink(app: Services, *, channel: str = CHANNEL) -> bool:
    """Forget the channel's connection, mappings, pending pushes and drift (the fake is
    gone); the log of past pushes stays. Returns whether there was a connection."""
    try:
        sync.disconnect(app, channel)
    except NotFound:
        return False
    return True


def unlink_stale(app: Services) -> bool:
    """Forget a link to the demo's fake shop left by a session that was killed."""
    stale = [c.channel for c in sync.connections(app) if c.shop == SHOP]
    return any([unlink(app, channel=code) for code in stale])
