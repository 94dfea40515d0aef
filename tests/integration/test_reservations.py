"""Check-and-reserve in batches (group commit) on both stores: each order of a batch is
decided as if it came alone, in turn, and a refused one leaves nothing behind."""

from __future__ import annotations

import threading

import pytest

from stockpool.domain.errors import AlreadyExists, InvalidInput, NotFound
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, OrderRefused
from stockpool.services import catalog, channels, events, orders, stock
from stockpool.services.context import Services
from stockpool.services.reservations import ReserveRequest, ReserveResult, reserve_many
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    """3 tees at WH1, a cap with 5; both sold on `shop` and `web`."""
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    for sku, units in (("TEE", 3), ("CAP", 5)):
        catalog.add_item(app, sku, sku.title())
        stock.receive(app, sku, "WH1", units, actor=ME)
    channels.add_channel(app, "shop", "shopify", ["WH1"], priority=1)
    channels.add_channel(app, "web", "other", ["WH1"], priority=2)
    for sku in ("TEE", "CAP"):
        channels.add_listing(app, "shop", f"S-{sku}", sku)
        channels.add_listing(app, "web", f"W-{sku}", sku)
    return app


def ask(ext: str, *lines: tuple[str, int], channel: str = "shop") -> ReserveRequest:
    return ReserveRequest(channel, ext, tuple(LineRequest(ListingId(x), q) for x, q in lines))


def committed(app: Services, sku: str) -> int:
    return sum(s.committed for _, s in stock.stock_of(app, sku))


def test_orders_of_one_batch_are_decided_in_turn_against_what_the_ones_before_left(
    shop: Services,
) -> None:
    found = reserve_many(shop, [ask(f"o-{n}", ("S-TEE", 1)) for n in range(5)])
    assert [isinstance(x, ReserveResult) for x in found] == [True, True, True, False, False]
    for refused in found[3:]:
        assert isinstance(refused, OrderRefused)
        assert [(x.listing_id, x.asked, x.available) for x in refused.shortfall] == [
            ("S-TEE", 1, 0)
        ]
    assert committed(shop, "TEE") == 3
    assert {x.listing_id: x.ats for x in channels.list_listings(shop, sku="TEE")} == {
        "S-TEE": 0,
        "W-TEE": 0,
    }
    assert verify(shop).clean


def test_a_refused_order_in_a_batch_leaves_nothing_and_the_others_stand(shop: Services) -> None:
    found = reserve_many(
        shop,
        [
            ask("a", ("S-CAP", 2)),
            ask("b", ("S-TEE", 2), ("S-CAP", 9)),  # the cap line does not fit
            ask("c", ("W-TEE", 2), channel="web"),
        ],
    )
    assert isinstance(found[0], ReserveResult)
    assert isinstance(found[2], ReserveResult)
    refused = found[1]
    assert isinstance(refused, OrderRefused)
    assert [(s.listing_id, s.asked, s.available) for s in refused.shortfall] == [("S-CAP", 9, 3)]
    with pytest.raises(NotFound):
        orders.show(shop, "shop", "b")
    assert orders.show(shop, "shop", "a").lines[0].quantity == 2
    assert (committed(shop, "TEE"), committed(shop, "CAP")) == (2, 2)
    assert verify(shop).clean
    # The refused order's id is free: sent again with lines that fit, it is accepted.
    [again] = reserve_many(shop, [ask("b", ("S-TEE", 1))])
    assert isinstance(again, ReserveResult)
    assert not again.replayed


def test_a_repeated_id_in_one_batch_is_a_retry_of_the_first(shop: Services) -> None:
    found = reserve_many(
        shop,
        [ask("x", ("S-TEE", 1)), ask("x", ("S-TEE", 1)), ask("x", ("S-TEE", 2))],
    )
    first, retry, other = found
    assert isinstance(first, ReserveResult)
    assert not first.replayed
    assert isinstance(retry, ReserveResult)
    assert retry.replayed
    assert retry.order.lines[0].quantity == 1
    assert isinstance(other, AlreadyExists)
    assert committed(shop, "TEE") == 1


def test_bad_requests_in_a_batch_get_their_own_errors(shop: Services) -> None:
    found = reserve_many(
        shop,
        [
            ask("1", ("S-TEE", 1), channel="nowhere"),
            ask("2", ("S-NOPE", 1)),
            ask("3", ("S-TEE", 0)),
            ask("4", ("S-TEE", 1)),
        ],
    )
    assert isinstance(found[0], NotFound)
    assert isinstance(found[1], NotFound)
    assert isinstance(found[2], InvalidInput)
    assert isinstance(found[3], ReserveResult)
    assert committed(shop, "TEE") == 1
    assert verify(shop).clean


def test_each_accepted_order_publishes_an_event(shop: Services) -> None:
    before = events.last_event_id(shop)
    reserve_many(shop, [ask("e-1", ("S-TEE", 1)), ask("e-2", ("S-TEE", 9))])
    found = events.events_after(shop, before, types=["order.accepted"])
    assert [(e.channel, e.payload["external_id"]) for e in found] == [("shop", "e-1")]


def test_concurrent_callers_never_get_more_than_there_is(shop: Services) -> None:
    results: list[object] = []
    lock = threading.Lock()
    start = threading.Barrier(24)

    def call(n: int) -> None:
        start.wait()
        try:
            outcome: object = orders.reserve(
                shop,
                "shop" if n % 2 else "web",
                f"c-{n}",
                [LineRequest(ListingId("S-TEE" if n % 2 else "W-TEE"), 1)],
                actor=ME,
            )
        except OrderRefused as refused:
            outcome = refused
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    accepted = [x for x in results if isinstance(x, ReserveResult)]
    assert len(results) == 24
    assert len(accepted) == 3
    assert committed(shop, "TEE") == 3
    assert verify(shop).clean
