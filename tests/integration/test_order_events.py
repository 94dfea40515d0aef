"""Every order change and every ATS change of a configuration change is an event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, NotificationKind
from stockpool.services import catalog, channels, events, order_lifecycle, orders, rules, stock
from stockpool.services.context import Services
from stockpool.services.rules import place_for
from stockpool.services.stock import Actor

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    catalog.add_item(app, "TEE", "Tee")
    stock.receive(app, "TEE", "WH1", 4, actor=ME)
    channels.add_channel(app, "shop", "shopify", ["WH1"], priority=1)
    channels.add_channel(app, "amzn", "amazon", ["WH1"], priority=2)
    channels.add_listing(app, "shop", "S-TEE", "TEE")
    channels.add_listing(app, "amzn", "A-TEE", "TEE")
    return app


def order_events(app: Services, after: int) -> list[tuple[str, str, str]]:
    found = events.events_after(app, after, types=["order.changed", "order.oversold"])
    return [(e.type, e.payload["external_id"], e.payload["action"]) for e in found]


def test_shipping_cancelling_and_returning_are_order_events(shop: Services) -> None:
    orders.reserve(shop, "shop", "o-1", [LineRequest(ListingId("S-TEE"), 3)], actor=ME)
    start = events.last_event_id(shop)
    order_lifecycle.ship(shop, "shop", "o-1", {1: 1}, actor=ME)
    order_lifecycle.cancel(shop, "shop", "o-1", {1: 1}, actor=ME)
    order_lifecycle.return_units(shop, "shop", "o-1", {1: 1}, actor=ME)
    assert order_events(shop, start) == [
        ("order.changed", "o-1", "shipped"),
        ("order.changed", "o-1", "cancelled"),
        ("order.changed", "o-1", "returned"),
    ]
    [last] = events.events_after(shop, start, types=["order.changed"])[-1:]
    assert last.channel == "shop"
    assert last.payload["lines"][0] == {
        "line": 1,
        "listing": "S-TEE",
        "quantity": 3,
        "shipped": 1,
        "cancelled": 1,
        "returned": 1,
        "short": 0,
    }


def test_an_ingested_order_stock_cannot_cover_is_an_oversold_event(shop: Services) -> None:
    start = events.last_event_id(shop)
    note = orders.Notification(
        NotificationKind.CREATE,
        "amzn",
        "A-1",
        datetime(2026, 3, 2, 9, tzinfo=UTC),
        (LineRequest(ListingId("A-TEE"), 6),),
    )
    orders.ingest(shop, note, actor=ME)
    assert order_events(shop, start) == [
        ("order.changed", "A-1", "created"),
        ("order.oversold", "A-1", "created"),
    ]
    [oversold] = events.events_after(shop, start, types=["order.oversold"])
    assert oversold.payload["lines"][0]["short"] == 2


def test_a_rule_change_publishes_the_ats_it_changed(shop: Services) -> None:
    start = events.last_event_id(shop)
    rules.set_rule(shop, place_for(channel="amzn"), {"buffer": 1}, actor="tester")
    found = events.events_after(shop, start, types=["ats.changed"])
    assert [(e.channel, e.payload["listing"], e.payload["ats"]) for e in found] == [
        ("amzn", "A-TEE", 3)
    ]


def test_an_ats_change_is_stored_as_its_payload_whatever_the_listing_is_called(
    shop: Services,
) -> None:
    odd = 'A "quoted" \\ listing, ünïcode ✓'
    channels.add_listing(shop, "amzn", odd, "TEE")
    start = events.last_event_id(shop)
    orders.reserve(shop, "shop", "o-9", [LineRequest(ListingId("S-TEE"), 1)], actor=ME)
    found = events.events_after(shop, start, types=["ats.changed"])
    assert [e.payload for e in found] == [
        {"channel": "amzn", "listing": odd, "sku": "TEE", "ats": 3, "version": 2},
        {"channel": "amzn", "listing": "A-TEE", "sku": "TEE", "ats": 3, "version": 2},
        {"channel": "shop", "listing": "S-TEE", "sku": "TEE", "ats": 3, "version": 2},
    ]
