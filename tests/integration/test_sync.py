"""The sync engine against the fake Shopify, on both stores: outbox, pushes, compare-and-set,
throttling, retries, webhooks, catch-up, reconciliation and health."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stockpool.services import stock, sync
from stockpool.services.context import Services
from stockpool.sync.worker import ChannelWorker
from tests.conftest import FakeClock
from tests.integration.sync_harness import ITEMS, LOC, ME, Rig


@pytest.fixture
def rig(app: Services, clock: FakeClock) -> Rig:
    return Rig(app, clock)


def test_connecting_and_mapping_pushes_every_listing_its_ats(rig: Rig) -> None:
    assert rig.drain() == 4  # a round reads what Shopify holds, the next one pushes
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}
    [health] = sync.status(rig.app)
    assert (health.channel, health.acknowledged, health.queue_depth, health.failures) == (
        "shop",
        2,
        0,
        0,
    )
    assert rig.drain() == 0


def test_an_order_on_another_channel_lowers_shopify_with_compare_and_set(rig: Rig) -> None:
    rig.drain()
    rig.our_order("TEE", 3)
    assert rig.drain() == 1
    assert rig.on_fake() == {"S-TEE": 7, "S-CAP": 10}
    sent = rig.fake.requests[-1]["variables"]["input"]["quantities"]
    assert sent == [
        {
            "inventoryItemId": ITEMS["TEE"],
            "locationId": LOC,
            "quantity": 7,
            "changeFromQuantity": 10,
        }
    ]


def test_newer_values_coalesce_into_one_push(rig: Rig) -> None:
    rig.drain()
    pushes = len(rig.fake.requests)
    for _ in range(3):
        rig.our_order("TEE", 1)
    assert rig.drain() == 1
    assert len(rig.fake.requests) == pushes + 1
    assert rig.on_fake()["S-TEE"] == 7


def test_a_sale_on_shopify_we_have_not_heard_of_is_caught_up_before_pushing(rig: Rig) -> None:
    rig.drain()
    sold = rig.fake.sell([(ITEMS["TEE"], 4)], LOC)
    assert sold is not None
    rig.our_order("TEE", 3)
    rig.drain()
    assert rig.ats() == {"S-TEE": 3, "S-CAP": 10}
    assert rig.on_fake() == {"S-TEE": 3, "S-CAP": 10}
    shopify_orders = [o for o in sync_orders(rig) if o.channel == "shop"]
    assert [(o.external_id, o.lines[0].quantity) for o in shopify_orders] == [(sold.gid, 4)]


def sync_orders(rig: Rig) -> list:  # type: ignore[type-arg]
    from stockpool.services import orders

    return orders.list_orders(rig.app, channel="shop")


def test_throttling_delays_the_push_and_loses_nothing(rig: Rig) -> None:
    rig.fake.bucket.available = 4  # the read of both levels costs 5
    rig.fake.bucket.at = rig.clock()

    async def step(w: ChannelWorker) -> tuple[int, tuple[int, int], int]:
        first = await w.push_once()
        [health] = sync.status(rig.app)
        return first, (health.queue_depth, health.failures), await w.drain()

    assert rig.run(step) == (2, (2, 2), 4)
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}


def test_a_429_waits_for_its_retry_after(rig: Rig) -> None:
    rig.fake.fail_next("429", value=7)
    start = rig.clock()
    rig.drain()
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}
    assert rig.clock() - start >= timedelta(seconds=7)


def test_transient_failures_back_off_and_then_succeed(rig: Rig) -> None:
    rig.fake.fail_next("503", times=2)
    rig.fake.fail_next("reset")
    assert rig.run(lambda w: w.push_once()) == 2
    assert rig.run(lambda w: w.push_once()) == 0  # backing off
    assert rig.on_fake() == {"S-TEE": 0, "S-CAP": 0}
    for _ in range(4):
        rig.clock.advance(seconds=61)
        rig.drain()
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}
    [health] = sync.status(rig.app)
    assert (health.failures, health.queue_depth) == (6, 0)


def test_an_expired_token_stops_the_worker_and_keeps_the_outbox(rig: Rig) -> None:
    rig.fake.token_expires_at = rig.clock()

    async def step(w: ChannelWorker) -> tuple[int, str | None]:
        return await w.drain(), w.stopped

    handled, stopped = rig.run(step)
    assert handled == 2
    assert stopped is not None
    assert stopped.startswith("auth_expired")
    assert sync.status(rig.app)[0].queue_depth == 2
    assert rig.on_fake() == {"S-TEE": 0, "S-CAP": 0}


def test_an_unknown_inventory_item_is_parked_not_retried_at_once(rig: Rig) -> None:
    sync.map_listing(rig.app, "shop", "S-CAP", item="gid://shopify/InventoryItem/9", location=LOC)
    rig.drain()
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 0}
    [health] = sync.status(rig.app)
    assert (health.queue_depth, health.failing_now) == (1, 1)


def test_a_lost_result_is_repeated_harmlessly_after_the_lease_expires(rig: Rig) -> None:
    rig.drain()
    rig.our_order("TEE", 2)
    tasks = sync.claim(rig.app, "shop", owner="crashed", limit=10, lease_seconds=30)
    assert [t.desired for t in tasks] == [8]
    assert rig.drain() == 0  # leased by the crashed worker
    rig.clock.advance(seconds=31)
    assert rig.drain() == 1
    assert rig.on_fake()["S-TEE"] == 8
    assert sync.status(rig.app)[0].queue_depth == 0


def test_webhooks_are_stored_once_and_ingested_once(rig: Rig) -> None:
    rig.drain()
    rig.fake.chaos.duplicate = 1.0
    order = rig.fake.sell([(ITEMS["CAP"], 2)], LOC)
    assert order is not None
    assert rig.deliver_webhooks() == 2
    assert rig.run(lambda w: w.process_webhooks()) == 1
    assert rig.ats()["S-CAP"] == 8
    assert [o.external_id for o in sync_orders(rig)] == [order.gid]
    rig.fake.cancel(order.gid)
    rig.deliver_webhooks()
    rig.run(lambda w: w.process_webhooks())
    assert rig.ats()["S-CAP"] == 10
    rig.drain()
    assert rig.on_fake()["S-CAP"] == 10


def test_a_dropped_webhook_is_caught_up_by_the_poll(rig: Rig) -> None:
    rig.drain()
    rig.fake.chaos.drop = 1.0
    order = rig.fake.sell([(ITEMS["TEE"], 1)], LOC)
    assert rig.deliver_webhooks() == 0
    assert rig.run(lambda w: w.catch_up()) == 1
    assert rig.run(lambda w: w.catch_up()) == 0
    assert order is not None
    assert [o.external_id for o in sync_orders(rig)] == [order.gid]
    assert rig.ats()["S-TEE"] == 9


def test_reconciliation_reports_drift_and_heals_by_repush(rig: Rig) -> None:
    rig.drain()
    rig.fake.levels[(ITEMS["TEE"], LOC)] = 25  # edited by hand in the Shopify admin
    actual = rig.run(lambda w: w.read_back())
    [drift] = sync.reconcile(rig.app, "shop", actual, heal=False)
    assert (drift.listing, drift.expected, drift.actual) == ("S-TEE", 10, 25)
    assert sync.status(rig.app)[0].drift == 1
    rig.clock.advance(minutes=5)
    [again] = sync.reconcile(rig.app, "shop", actual, heal=True)
    assert again.since == drift.since
    rig.drain()
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}
    assert sync.reconcile(rig.app, "shop", rig.run(lambda w: w.read_back()), heal=False) == []
    assert sync.status(rig.app)[0].drift == 0


def test_a_channel_served_only_from_channel_held_stock_is_never_pushed(app: Services) -> None:
    from stockpool.services import catalog, channels, stock
    from stockpool.services.stock import Actor

    catalog.add_location(app, "FBA", "FBA", "channel_held")
    catalog.add_item(app, "TEE", "Tee")
    channels.add_channel(app, "fba", "amazon", ["FBA"])
    channels.add_listing(app, "fba", "F-TEE", "TEE")
    sync.connect(
        app, "fba", shop="fba.example", base_url="http://127.0.0.1:9", token="t", secrets=["s"]
    )
    sync.map_listing(app, "fba", "F-TEE", item="sku-1", location="fba")
    stock.receive(app, "TEE", "FBA", 5, actor=Actor("t"))
    assert sync.status(app)[0].queue_depth == 0


def test_a_value_equal_to_the_last_push_is_still_pushed_when_shopify_changed(rig: Rig) -> None:
    rig.drain()
    order = rig.fake.sell([(ITEMS["TEE"], 1)], LOC)  # Shopify shows 9
    assert order is not None
    rig.deliver_webhooks()
    rig.run(lambda w: w.process_webhooks())  # our ATS 9, not pushed yet
    stock.receive(rig.app, "TEE", "WH1", 1, actor=ME)  # our ATS 10: what we pushed last
    rig.drain()
    assert rig.ats() == {"S-TEE": 10, "S-CAP": 10}
    assert rig.on_fake() == {"S-TEE": 10, "S-CAP": 10}


def test_a_sale_after_a_stale_push_is_ingested_before_the_value_read_is_used(rig: Rig) -> None:
    rig.drain()
    rig.our_order("TEE", 3)
    rig.fake.sell([(ITEMS["TEE"], 2)], LOC)

    async def step(w: ChannelWorker) -> int:
        await w.push_once()  # 7 from 10: stale, Shopify holds 8
        rig.fake.sell([(ITEMS["TEE"], 1)], LOC)  # 7 now, before we read it
        return await w.drain()

    rig.run(step)
    assert rig.ats()["S-TEE"] == 4
    assert rig.on_fake()["S-TEE"] == 4  # never re-inflated to 5 with the unheard-of sale


def test_healing_drift_never_undoes_a_sale_we_have_not_heard_of(rig: Rig) -> None:
    rig.drain()
    rig.fake.levels[(ITEMS["TEE"], LOC)] = 25  # edited by hand in the Shopify admin
    rig.fake.sell([(ITEMS["TEE"], 2)], LOC)  # 23, not ingested yet
    actual = rig.run(lambda w: w.read_back())
    [drift] = sync.reconcile(rig.app, "shop", actual, heal=True)
    assert (drift.expected, drift.actual) == (10, 23)
    rig.drain()
    assert rig.ats()["S-TEE"] == 8
    assert rig.on_fake()["S-TEE"] == 8


def test_a_new_attempt_after_a_stale_push_gets_a_new_idempotency_key(rig: Rig) -> None:
    rig.drain()
    rig.our_order("TEE", 3)
    sold = rig.fake.sell([(ITEMS["TEE"], 2)], LOC)
    assert sold is not None
    assert rig.run(lambda w: w.push_once()) == 1  # 7 from 10: stale
    rig.fake.cancel(sold.gid)  # Shopify holds 10 again, as when we pushed
    rig.run(lambda w: w.drain(rounds=10))
    assert rig.on_fake()["S-TEE"] == 7
    assert sync.status(rig.app)[0].queue_depth == 0


def test_a_restock_on_shopify_that_leaves_our_ats_unchanged_is_still_pushed(
    app: Services, clock: FakeClock
) -> None:
    rig = Rig(app, clock, stock_each=3, buffer=2)  # Shopify shows 3 - 2 = 1
    rig.drain()
    sold = rig.fake.sell([(ITEMS["TEE"], 1)], LOC)
    assert sold is not None
    rig.our_order("TEE", 2)  # nothing left of TEE; Shopify's order not heard of yet
    rig.run(lambda w: w.catch_up())
    rig.drain()
    assert (rig.ats()["S-TEE"], rig.on_fake()["S-TEE"]) == (0, 0)
    rig.fake.cancel(sold.gid)  # Shopify restocks 1; we have 1, less the buffer: still 0
    rig.run(lambda w: w.catch_up())
    rig.drain()
    assert (rig.ats()["S-TEE"], rig.on_fake()["S-TEE"]) == (0, 0)


def test_disconnecting_forgets_the_link_and_keeps_the_log(rig: Rig) -> None:
    from stockpool.domain.errors import NotFound

    rig.drain()
    rig.our_order("TEE", 1)  # a push waits in the outbox
    sync.disconnect(rig.app, "shop")
    assert sync.connections(rig.app) == []
    assert sync.states(rig.app, "shop") == []
    with pytest.raises(NotFound, match="not connected"):
        sync.disconnect(rig.app, "shop")
    with pytest.raises(NotFound):
        sync.disconnect(rig.app, "nowhere")
