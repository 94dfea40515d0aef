"""Check-and-reserve, sourcing and the order lifecycle on both stores."""

from __future__ import annotations

import pytest

from stockpool.domain.errors import AlreadyExists, InvalidInput, InvalidTransition, NotFound
from stockpool.domain.orders import OrderRefused, OrderStatus, Shortfall
from stockpool.services import catalog, channels, order_lifecycle, orders, rules, stock
from stockpool.services.context import Services
from stockpool.services.orders import line_requests
from stockpool.services.rules import place_for
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from tests.dbsnapshot import snapshot

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    """Two warehouses and FBA; a tee sold alone, as a 6-pack and in a kit with a cap."""
    catalog.add_location(app, "WH1", "Main", "warehouse", zone="east", priority=1)
    catalog.add_location(app, "WH2", "West 3PL", "3pl", zone="west", priority=2)
    catalog.add_location(app, "FBA", "Amazon FBA", "channel_held")
    for sku in ("TEE", "CAP"):
        catalog.add_item(app, sku, sku.title())
    stock.receive(app, "TEE", "WH1", 10, actor=ME)
    stock.receive(app, "TEE", "WH2", 10, actor=ME)
    stock.receive(app, "CAP", "WH1", 3, actor=ME)
    stock.receive(app, "TEE", "FBA", 4, actor=ME)
    channels.add_channel(app, "shop", "shopify", ["WH1", "WH2"], priority=1)
    channels.add_channel(app, "amzn", "amazon", ["WH1", "WH2"], priority=2)
    channels.add_channel(app, "fba", "amazon", ["FBA"], priority=3)
    channels.save_bundle(app, "KIT", [("TEE", 2), ("CAP", 1)])
    for channel, listing, sku, units in (
        ("shop", "TEE-1", "TEE", 1),
        ("shop", "TEE-6", "TEE", 6),
        ("shop", "KIT-1", "KIT", 1),
        ("amzn", "A-TEE", "TEE", 1),
        ("fba", "F-TEE", "TEE", 1),
    ):
        channels.add_listing(app, channel, listing, sku, units=units)
    return app


def reserve(app: Services, ext: str, *lines: tuple[str, int], channel: str = "shop") -> object:
    return orders.reserve(app, channel, ext, line_requests(list(lines)), actor=ME)


def levels(app: Services, sku: str) -> dict[str, tuple[int, int, int]]:
    return {loc: (s.on_hand, s.committed, s.available) for loc, s in stock.stock_of(app, sku)}


def ats(app: Services) -> dict[str, int]:
    return {x.listing_id: x.ats for x in channels.list_listings(app)}


def test_an_accepted_order_is_committed_at_the_first_location_by_priority(shop: Services) -> None:
    result = reserve(shop, "o-1", ("TEE-1", 3))
    [line] = result.order.lines  # type: ignore[attr-defined]
    assert [(c.sku, c.location, c.committed) for c in line.commitments] == [("TEE", "WH1", 3)]
    assert levels(shop, "TEE")["WH1"] == (10, 3, 7)
    assert ats(shop)["TEE-1"] == 17
    assert ats(shop)["A-TEE"] == 17
    assert verify(shop).clean


def test_sourcing_follows_location_and_strategy_changes_at_once(shop: Services) -> None:
    def placed(ext: str) -> list[str]:
        result = reserve(shop, ext, ("TEE-1", 1))
        return [c.location for c in result.order.lines[0].commitments]  # type: ignore[attr-defined]

    assert placed("o-1") == ["WH1"]  # the process now holds what sourcing read
    catalog.update_location(shop, "WH2", priority=0)
    assert placed("o-2") == ["WH2"]
    catalog.set_location_archived(shop, "WH2", archived=True)
    assert placed("o-3") == ["WH1"]
    catalog.set_location_archived(shop, "WH2", archived=False)
    channels.update_channel(shop, "shop", sourcing="most_stock")
    assert placed("o-4") == ["WH2"]  # WH2 has 9 left after o-2, WH1 has 8


def test_an_order_that_does_not_fit_is_refused_with_its_shortfall_and_changes_nothing(
    shop: Services,
) -> None:
    reserve(shop, "o-1", ("TEE-1", 15))
    before = snapshot(shop)
    with pytest.raises(OrderRefused) as refused:
        reserve(shop, "o-2", ("TEE-1", 2), ("KIT-1", 3))
    assert refused.value.shortfall == (Shortfall("KIT-1", 3, 1),)
    assert snapshot(shop) == before


def test_lines_sharing_an_item_can_never_jointly_exceed_its_ats(shop: Services) -> None:
    before = snapshot(shop)
    with pytest.raises(OrderRefused) as refused:
        reserve(shop, "o-1", ("TEE-1", 18), ("KIT-1", 2))
    # After 18 tees, 2 are left: one kit (2 tees + 1 cap), not two.
    assert refused.value.shortfall == (Shortfall("KIT-1", 2, 1),)
    assert snapshot(shop) == before


def test_the_guard_counts_commitments_already_present(shop: Services) -> None:
    for n in range(20):
        reserve(shop, f"o-{n}", ("TEE-1", 1))
    refused = 0
    for n in range(20, 32):
        try:
            reserve(shop, f"o-{n}", ("TEE-1", 1))
        except OrderRefused:
            refused += 1
    assert refused == 12
    assert levels(shop, "TEE")["WH1"] == (10, 10, 0)
    assert levels(shop, "TEE")["WH2"] == (10, 10, 0)
    assert ats(shop)["TEE-1"] == 0
    assert ats(shop)["A-TEE"] == 0
    assert verify(shop).clean


def test_a_retry_of_an_accepted_order_returns_the_same_order(shop: Services) -> None:
    first = reserve(shop, "o-1", ("TEE-1", 2))
    before = snapshot(shop)
    again = reserve(shop, "o-1", ("TEE-1", 2))
    assert again.replayed is True  # type: ignore[attr-defined]
    assert again.order.lines == first.order.lines  # type: ignore[attr-defined]
    assert snapshot(shop) == before
    with pytest.raises(AlreadyExists):
        reserve(shop, "o-1", ("TEE-1", 3))
    assert snapshot(shop) == before


@pytest.mark.parametrize(
    ("lines", "error"),
    [
        ((), InvalidInput),
        ((("TEE-1", 0),), InvalidInput),
        ((("NOPE", 1),), NotFound),
    ],
)
def test_bad_orders_are_rejected_and_change_nothing(
    shop: Services, lines: tuple[tuple[str, int], ...], error: type[Exception]
) -> None:
    before = snapshot(shop)
    with pytest.raises(error):
        reserve(shop, "o-1", *lines)
    assert snapshot(shop) == before


def test_a_bundle_commits_its_components_and_a_multipack_its_units(shop: Services) -> None:
    result = reserve(shop, "o-1", ("KIT-1", 2), ("TEE-6", 1))
    kit, six = result.order.lines  # type: ignore[attr-defined]
    assert sorted((c.sku, c.location, c.committed) for c in kit.commitments) == [
        ("CAP", "WH1", 2),
        ("TEE", "WH1", 4),
    ]
    assert [(c.sku, c.location, c.committed) for c in six.commitments] == [("TEE", "WH1", 6)]
    assert ats(shop)["KIT-1"] == 1
    assert verify(shop).clean


def test_channel_held_stock_serves_its_own_channel(shop: Services) -> None:
    result = reserve(shop, "f-1", ("F-TEE", 4), channel="fba")
    [line] = result.order.lines  # type: ignore[attr-defined]
    assert [(c.location, c.committed) for c in line.commitments] == [("FBA", 4)]
    assert ats(shop)["F-TEE"] == 0
    assert ats(shop)["TEE-1"] == 20


def test_sourcing_never_takes_what_another_channel_protects(shop: Services) -> None:
    rules.set_rule(
        shop,
        place_for(channel="shop", sku="TEE"),
        {"protect": 5, "eligible_locations": ["WH1"]},
        actor="t",
    )
    assert ats(shop)["A-TEE"] == 15
    reserve(shop, "a-1", ("A-TEE", 15), channel="amzn")
    # By priority amzn would empty WH1 first; shop can only be served from WH1.
    assert levels(shop, "TEE")["WH1"] == (10, 5, 5)
    assert levels(shop, "TEE")["WH2"] == (10, 10, 0)
    assert ats(shop)["TEE-1"] == 5
    assert ats(shop)["A-TEE"] == 0
    assert verify(shop).clean


def test_shipping_a_line_moves_stock_out_and_releases_its_commitment(shop: Services) -> None:
    reserve(shop, "o-1", ("TEE-1", 3), ("KIT-1", 1))
    order = order_lifecycle.ship(shop, "shop", "o-1", {1: 2}, actor=ME)
    assert [(x.shipped, x.open) for x in order.lines] == [(2, 1), (0, 1)]
    assert order.status is OrderStatus.OPEN
    assert levels(shop, "TEE")["WH1"] == (8, 3, 5)
    again = order_lifecycle.ship(shop, "shop", "o-1", {1: 2}, actor=ME)
    assert again.lines == order.lines  # the same request twice ships once
    done = order_lifecycle.ship(shop, "shop", "o-1", actor=ME)
    assert done.status is OrderStatus.SHIPPED
    assert levels(shop, "TEE")["WH1"] == (5, 0, 5)
    assert levels(shop, "CAP")["WH1"] == (2, 0, 2)
    assert verify(shop).clean


def test_cancelling_releases_the_commitment_and_is_idempotent(shop: Services) -> None:
    reserve(shop, "o-1", ("TEE-1", 3), ("KIT-1", 1))
    order = order_lifecycle.cancel(shop, "shop", "o-1", {2: 1}, actor=ME)
    assert [x.cancelled for x in order.lines] == [0, 1]
    assert levels(shop, "CAP")["WH1"] == (3, 0, 3)
    order = order_lifecycle.cancel(shop, "shop", "o-1", actor=ME)
    assert order.status is OrderStatus.CANCELLED
    before = snapshot(shop)
    order_lifecycle.cancel(shop, "shop", "o-1", actor=ME)
    assert snapshot(shop) == before
    assert levels(shop, "TEE")["WH1"] == (10, 0, 10)
    assert ats(shop)["TEE-1"] == 20
    assert verify(shop).clean


def test_returns_restock_to_available_or_to_damaged(shop: Services) -> None:
    reserve(shop, "o-1", ("TEE-1", 3))
    order_lifecycle.ship(shop, "shop", "o-1", actor=ME)
    order_lifecycle.return_units(shop, "shop", "o-1", {1: 1}, actor=ME)
    order = order_lifecycle.return_units(shop, "shop", "o-1", {1: 2}, damaged=True, actor=ME)
    assert order.lines[0].returned == 3
    [wh1] = [s for loc, s in stock.stock_of(shop, "TEE") if loc == "WH1"]
    assert (wh1.on_hand, wh1.available, wh1.unavailable_total) == (10, 8, 2)
    before = snapshot(shop)
    with pytest.raises(InvalidTransition):
        order_lifecycle.return_units(shop, "shop", "o-1", {1: 1}, reference="rma-9", actor=ME)
    assert snapshot(shop) == before
    assert verify(shop).clean


def test_a_line_ships_only_what_is_open(shop: Services) -> None:
    reserve(shop, "o-1", ("TEE-1", 1))
    before = snapshot(shop)
    with pytest.raises(InvalidTransition):
        order_lifecycle.ship(shop, "shop", "o-1", {1: 2}, actor=ME)
    assert snapshot(shop) == before


def test_resourcing_moves_the_commitment_in_one_step(shop: Services) -> None:
    reserve(shop, "o-1", ("TEE-1", 4))
    order = order_lifecycle.resource(shop, "shop", "o-1", 1, "WH2")
    assert [(c.location, c.committed) for c in order.lines[0].commitments if c.committed] == [
        ("WH2", 4)
    ]
    assert levels(shop, "TEE")["WH1"] == (10, 0, 10)
    assert levels(shop, "TEE")["WH2"] == (10, 4, 6)
    before = snapshot(shop)
    with pytest.raises(InvalidInput):
        order_lifecycle.resource(shop, "shop", "o-1", 1, "FBA")
    assert snapshot(shop) == before
    assert verify(shop).clean
