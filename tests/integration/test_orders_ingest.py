"""Ingest of channel orders on both stores: exactly once, any delivery order, oversold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, NotificationKind, OrderStatus
from stockpool.services import ats, catalog, channels, order_lifecycle, orders, stock
from stockpool.services.context import Services
from stockpool.services.orders import Notification
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from tests.conftest import FakeClock
from tests.dbsnapshot import snapshot

ME = Actor("tester")
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CREATE, UPDATE, CANCEL = NotificationKind.CREATE, NotificationKind.UPDATE, NotificationKind.CANCEL


@pytest.fixture
def shop(app: Services) -> Services:
    """One warehouse with 5 tees and 2 caps; a marketplace selling tees and kits."""
    catalog.add_location(app, "WH1", "Main", "warehouse")
    catalog.add_location(app, "WH2", "Spare", "warehouse", priority=200)
    catalog.add_item(app, "TEE", "Tee")
    catalog.add_item(app, "CAP", "Cap")
    stock.receive(app, "TEE", "WH1", 5, actor=ME)
    stock.receive(app, "CAP", "WH1", 2, actor=ME)
    channels.add_channel(app, "ebay", "ebay", ["WH1", "WH2"])
    channels.add_channel(app, "shop", "shopify", ["WH1", "WH2"])
    channels.save_bundle(app, "KIT", [("TEE", 1), ("CAP", 1)])
    channels.add_listing(app, "ebay", "E-TEE", "TEE")
    channels.add_listing(app, "ebay", "E-KIT", "KIT")
    channels.add_listing(app, "shop", "S-TEE", "TEE")
    channels.add_listing(app, "shop", "S-CAP", "CAP")
    return app


def note(
    kind: NotificationKind, minutes: int, *lines: tuple[str, int], ext: str = "E1"
) -> Notification:
    return Notification(
        kind,
        "ebay",
        ext,
        T0 + timedelta(minutes=minutes),
        tuple(LineRequest(ListingId(x), q) for x, q in lines),
    )


def send(app: Services, n: Notification) -> str:
    return orders.ingest(app, n, actor=ME).action


def committed(app: Services, sku: str) -> int:
    return sum(s.committed for _, s in stock.stock_of(app, sku))


def ats_of(app: Services) -> dict[str, int]:
    return {x.listing_id: x.ats for x in channels.list_listings(app)}


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ((), InvalidInput),
        ((("E-TEE", 0),), InvalidInput),
        ((("E-TEE", -2),), InvalidInput),
        ((("NOPE", 1),), NotFound),
    ],
)
def test_a_bad_notification_is_refused_and_changes_nothing(
    shop: Services, lines: tuple[tuple[str, int], ...], error: type[Exception]
) -> None:
    before = snapshot(shop)
    with pytest.raises(error):
        send(shop, note(CREATE, 0, *lines))
    assert snapshot(shop) == before


def test_duplicate_creates_record_the_order_once(shop: Services) -> None:
    assert send(shop, note(CREATE, 0, ("E-TEE", 2))) == "created"
    before = snapshot(shop)
    assert send(shop, note(CREATE, 0, ("E-TEE", 2))) == "ignored"
    assert snapshot(shop) == before
    assert len(orders.list_orders(shop)) == 1
    assert committed(shop, "TEE") == 2


def test_a_cancel_before_its_create_leaves_a_cancelled_order_and_commits_nothing(
    shop: Services,
) -> None:
    assert send(shop, note(CANCEL, 5)) == "created"
    assert send(shop, note(CREATE, 0, ("E-TEE", 2))) == "filled"
    order = orders.show(shop, "ebay", "E1")
    assert order.status is OrderStatus.CANCELLED
    assert [(x.listing_id, x.quantity, x.cancelled) for x in order.lines] == [("E-TEE", 2, 2)]
    assert committed(shop, "TEE") == 0
    assert send(shop, note(UPDATE, 3, ("E-TEE", 4))) == "ignored"
    assert committed(shop, "TEE") == 0
    assert verify(shop).clean


def test_an_older_update_after_a_newer_one_is_ignored(shop: Services) -> None:
    send(shop, note(CREATE, 0, ("E-TEE", 1)))
    assert send(shop, note(UPDATE, 10, ("E-TEE", 3))) == "applied"
    before = snapshot(shop)
    assert send(shop, note(UPDATE, 5, ("E-TEE", 2))) == "ignored"
    assert snapshot(shop) == before
    order = orders.show(shop, "ebay", "E1")
    assert [(x.quantity, x.open) for x in order.lines] == [(3, 3)]
    assert committed(shop, "TEE") == 3


def test_an_update_that_lowers_a_line_releases_its_units(shop: Services) -> None:
    send(shop, note(CREATE, 0, ("E-TEE", 3)))
    send(shop, note(UPDATE, 1, ("E-TEE", 1)))
    [line] = orders.show(shop, "ebay", "E1").lines
    assert (line.quantity, line.cancelled, line.open) == (3, 2, 1)
    assert committed(shop, "TEE") == 1
    send(shop, note(CANCEL, 2))
    assert orders.show(shop, "ebay", "E1").status is OrderStatus.CANCELLED
    assert committed(shop, "TEE") == 0
    assert verify(shop).clean


def test_an_uncovered_line_is_committed_as_far_as_stock_allows_and_zeroes_its_listings(
    shop: Services, clock: FakeClock
) -> None:
    send(shop, note(CREATE, 0, ("E-KIT", 3)))
    [line] = orders.show(shop, "ebay", "E1").lines
    assert (line.committed("TEE"), line.committed("CAP"), line.missing) == (3, 2, 1)
    clock.advance(hours=2)
    [exception] = orders.exceptions(shop)
    assert (exception.listing_id, exception.missing, dict(exception.items)) == (
        "E-KIT",
        1,
        {"CAP": 1},
    )
    assert exception.age_seconds(clock()) == 7200
    # CAP is oversold: every listing depending on it shows 0, on every channel.
    assert ats_of(shop) == {"E-TEE": 2, "E-KIT": 0, "S-TEE": 2, "S-CAP": 0}
    [explained] = ats.explain(shop, "shop", "S-CAP").listings
    assert explained.ats == 0
    assert explained.explanation[-1].step == "oversold"
    assert verify(shop).clean


def test_stock_that_arrives_later_resolves_the_exception(shop: Services) -> None:
    send(shop, note(CREATE, 0, ("E-KIT", 3)))
    order_lifecycle.resolve(shop)
    assert len(orders.exceptions(shop)) == 1  # nothing arrived yet
    stock.receive(shop, "CAP", "WH2", 4, actor=ME)
    [order] = order_lifecycle.resolve(shop)
    assert order.lines[0].missing == 0
    assert orders.exceptions(shop) == []
    [resolved] = orders.exceptions(shop, include_resolved=True)
    assert resolved.resolved_at is not None
    assert ats_of(shop)["S-CAP"] == 3
    shipped = order_lifecycle.ship(shop, "ebay", "E1", actor=ME)
    assert shipped.status is OrderStatus.SHIPPED
    assert verify(shop).clean


def test_cancelling_an_oversold_line_resolves_its_exception(shop: Services) -> None:
    send(shop, note(CREATE, 0, ("E-TEE", 7)))
    assert ats_of(shop)["S-TEE"] == 0
    send(shop, note(UPDATE, 1, ("E-TEE", 4)))
    assert orders.exceptions(shop) == []
    assert committed(shop, "TEE") == 4
    assert ats_of(shop)["S-TEE"] == 1
    assert verify(shop).clean
