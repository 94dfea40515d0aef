"""Sync publishes what it does: acknowledged values, failed pushes and drift, as events."""

from __future__ import annotations

import pytest

from stockpool.services import events, sync
from stockpool.services.context import Services
from tests.conftest import FakeClock
from tests.integration.sync_harness import ITEMS, LOC, Rig


@pytest.fixture
def rig(app: Services, clock: FakeClock) -> Rig:
    return Rig(app, clock)


def of(app: Services, after: int, kind: str) -> list[dict[str, object]]:
    return [e.payload for e in events.events_after(app, after, types=[kind], limit=1000)]


def test_each_acknowledged_push_is_an_event(rig: Rig) -> None:
    rig.drain()
    start = events.last_event_id(rig.app)
    rig.our_order("TEE", 3)
    rig.drain()
    [ack] = of(rig.app, start, "sync.acknowledged")
    assert (ack["channel"], ack["listing"], ack["quantity"]) == ("shop", "S-TEE", 7)


def test_a_failed_push_is_an_event_with_its_outcome(rig: Rig) -> None:
    start = events.last_event_id(rig.app)
    rig.fake.fail_next("503", times=2)
    rig.run(lambda w: w.push_once())
    failed = of(rig.app, start, "sync.failed")
    assert failed
    assert {x["channel"] for x in failed} == {"shop"}
    assert all(x["outcome"] for x in failed)


def test_drift_found_by_reconciliation_is_an_event(rig: Rig) -> None:
    rig.drain()
    start = events.last_event_id(rig.app)
    rig.fake.levels[(ITEMS["TEE"], LOC)] = 25  # edited by hand in the Shopify admin
    sync.reconcile(rig.app, "shop", rig.run(lambda w: w.read_back()), heal=False)
    [drift] = of(rig.app, start, "drift.detected")
    assert (drift["listing"], drift["expected"], drift["actual"]) == ("S-TEE", 10, 25)


def test_expected_counts_only_orders_after_each_listings_own_push(rig: Rig) -> None:
    rig.drain()
    rig.our_order("CAP", 2)  # on our own channel: pushed, acknowledged
    rig.drain()
    rig.fake.levels[(ITEMS["TEE"], LOC)] = 9  # one tee sold on Shopify, not yet heard of
    found = sync.reconcile(rig.app, "shop", rig.run(lambda w: w.read_back()), heal=False)
    assert [(d.listing, d.expected, d.actual) for d in found] == [("S-TEE", 10, 9)]
