"""`demo live` beside a fake Shopify on loopback: the shop's own sales reach us exactly once,
our changes reach the shop, and after draining both sides agree."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from stockpool.bootstrap import Settings, build_services
from stockpool.demo.generate import generate
from stockpool.demo.live import Traffic, hot_skus
from stockpool.demo.live_shop import LiveShop
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, NotificationKind
from stockpool.domain.rules import RuleLevel
from stockpool.fakes.shopify_orders import FakeOrder
from stockpool.services import channels, orders, stock, sync
from stockpool.services.context import Services
from stockpool.services.rules import RulePlace, set_rule
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from stockpool.store.uow import SqlUnitOfWork
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings
from stockpool.sync.webhooks import registry
from stockpool.sync.worker import SyncSettings


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Services]:
    services = build_services(Settings(database_url=database_url, data_dir=tmp_path))
    generate(services, seed=5, items_count=60, days=40)
    yield services
    services.uow.engine.dispose()  # type: ignore[attr-defined]


def _dispatcher(app: Services, client: httpx.AsyncClient) -> Dispatcher:
    settings = DispatchSettings(
        idle_seconds=0.02,
        poll_seconds=2.0,
        reconcile_seconds=3600.0,
        sync=SyncSettings(overlap=timedelta(0)),  # the fake is on our clock, consistent at once
    )
    return Dispatcher(app, client, settings=settings)


def _shopify_ats(app: Services) -> dict[str, int]:
    return {x.listing_id: x.ats for x in channels.list_listings(app, channel="shopify")}


def _recorded(app: Services) -> dict[str, list[tuple[str, int, int]]]:
    """Our orders of the shop: external id -> (listing, quantity, cancelled) per line."""
    with app.uow() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        rows = uow.connection.execute(
            text(
                "SELECT o.external_id, l.listing_id, l.quantity, l.cancelled FROM orders o "
                "JOIN channels c ON c.id = o.channel_id JOIN order_lines l ON l.order_id = o.id "
                "WHERE c.code = 'shopify' AND o.external_id LIKE 'gid://shopify/Order/%'"
            )
        )
        found: dict[str, list[tuple[str, int, int]]] = {}
        for external, listing, quantity, cancelled in rows:
            found.setdefault(str(external), []).append((str(listing), int(quantity), cancelled))
    return found


def test_shop_sales_are_recorded_once_and_both_sides_end_in_step(app: Services) -> None:
    skus = hot_skus(app, 4)

    async def session() -> tuple[dict[str, FakeOrder], dict[str, str], dict[str, int | None], int]:
        async with LiveShop(app, make_sync=_dispatcher, registry=registry(app), seed=3) as shop:
            traffic = Traffic(app, skus, seed=9, shop=shop.customers)
            for _ in range(12):
                traffic.tick(6)
                shop.deliver()
                await asyncio.sleep(0.1)
            healed = await shop.drain()
            shows = {listing: shop.customers.shows(listing) for listing in shop.link.items}
            return dict(shop.server.fake.orders.orders), shop.link.items, shows, healed

    sold, items, shows, healed = asyncio.run(session())
    listing_of = {item: listing for listing, item in items.items()}
    expected = {
        gid: [(listing_of[x.item], x.quantity, 0) for x in order.lines]
        for gid, order in sold.items()
    }
    assert len(sold) >= 10
    assert _recorded(app) == expected
    assert shows == _shopify_ats(app)
    assert healed == 0  # in step by pushes and ingestion alone, no final repair needed
    assert verify(app).clean
    assert sync.connections(app) == []


def test_an_amazon_order_lowers_what_the_shop_shows_within_about_a_second(app: Services) -> None:
    sku = hot_skus(app, 1)[0]
    listed = {str(x.channel): x for x in channels.list_listings(app, sku=sku) if x.units == 1}
    shop_listing, amazon_listing = listed["shopify"].listing_id, listed["amazon"].listing_id

    async def session() -> tuple[int | None, int, int | None, float]:
        async with LiveShop(app, make_sync=_dispatcher, registry=registry(app), seed=4) as shop:
            await asyncio.sleep(0.2)  # the dispatcher's first pass
            before = shop.customers.shows(shop_listing)
            line = LineRequest(ListingId(amazon_listing), 2)
            note = orders.Notification(
                NotificationKind.CREATE, "amazon", "111-0000001-0000001", app.clock(), (line,)
            )
            orders.ingest(app, note, actor=Actor("tester"))
            wanted = _shopify_ats(app)[shop_listing]
            started = time.monotonic()
            while shop.customers.shows(shop_listing) != wanted and time.monotonic() - started < 5:
                await asyncio.sleep(0.01)
            return before, wanted, shop.customers.shows(shop_listing), time.monotonic() - started

    before, wanted, after, seconds = asyncio.run(session())
    assert before is not None
    assert wanted == before - 2
    assert after == wanted
    assert seconds < 1.5


def test_a_shop_sale_that_leaves_our_ats_unchanged_still_brings_the_shop_back_in_step(
    app: Services,
) -> None:
    sku = hot_skus(app, 1)[0]
    levels = {str(code): state.available for code, state in stock.stock_of(app, sku)}
    assert levels["WH"] > 3
    assert levels.get("3PL", 0) + levels.get("STORE", 0) > 0
    channels.add_listing(app, "wholesale", f"WS-{sku}", sku)
    place = RulePlace(RuleLevel.SKU, sku, "wholesale")
    set_rule(app, place, {"protect": 12}, actor="tester")
    stock.adjust(app, sku, "WH", 3 - levels["WH"], reason="shrink", actor=Actor("tester"))
    listing = next(
        x.listing_id
        for x in channels.list_listings(app, channel="shopify", sku=sku)
        if x.units == 1
    )

    async def session() -> tuple[int | None, int]:
        async with LiveShop(app, make_sync=_dispatcher, registry=registry(app), seed=5) as shop:
            assert shop.customers.buy(listing, 1)
            shop.deliver()
            await shop.drain(heal=False)
            return shop.customers.shows(listing), _shopify_ats(app)[listing]

    shows, ats = asyncio.run(session())
    assert shows == ats
