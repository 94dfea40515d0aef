"""Channels, listings, bundles and rules on both stores: stored ATS, versions, dry run, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockpool.domain.errors import AlreadyExists, InvalidInput, NotFound, StockpoolError
from stockpool.domain.ids import Sku
from stockpool.services import ats, catalog, channels, rules, stock
from stockpool.services.ats import refresh_listings
from stockpool.services.context import Services
from stockpool.services.rules import place_for
from stockpool.services.stock import Actor
from tests.conftest import FakeClock
from tests.dbsnapshot import snapshot

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    """Two warehouses, three channels, an item sold alone, as a 6-pack and in a kit."""
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    catalog.add_location(app, "WH2", "East 3PL", "3pl", priority=2)
    catalog.add_location(app, "FBA", "Amazon FBA", "channel_held")
    catalog.add_item(app, "TEE", "Tee", tags=["tees"])
    catalog.add_item(app, "CAP", "Cap")
    catalog.add_item(app, "SOCK", "Sock")
    stock.receive(app, "TEE", "WH1", 30, actor=ME)
    stock.receive(app, "TEE", "WH2", 11, actor=ME)
    stock.receive(app, "CAP", "WH1", 5, actor=ME)
    channels.add_channel(app, "shop", "shopify", ["WH1", "WH2"], priority=1)
    channels.add_channel(app, "amzn", "amazon", ["WH1"], priority=2)
    channels.add_channel(app, "fba", "amazon", ["FBA"], priority=3)
    channels.save_bundle(app, "KIT", [("TEE", 2), ("CAP", 1)])
    channels.save_bundle(app, "BIGKIT", [("KIT", 2), ("SOCK", 1)])
    for channel, listing, sku, units in (
        ("shop", "TEE-1", "TEE", 1),
        ("shop", "TEE-6", "TEE", 6),
        ("shop", "KIT-1", "KIT", 1),
        ("shop", "CAP-1", "CAP", 1),
        ("amzn", "A-TEE", "TEE", 1),
        ("shop", "BIG-1", "BIGKIT", 1),
        ("shop", "SOCK-1", "SOCK", 1),
    ):
        channels.add_listing(app, channel, listing, sku, units=units)
    return app


def stored(app: Services) -> dict[tuple[str, str], tuple[int, int]]:
    return {(x.channel, x.listing_id): (x.ats, x.ats_version) for x in channels.list_listings(app)}


def ats_of(app: Services) -> dict[tuple[str, str], int]:
    return {key: value for key, (value, _) in stored(app).items()}


def test_listings_store_their_ats_as_configured(shop: Services) -> None:
    assert ats_of(shop) == {
        ("shop", "TEE-1"): 41,
        ("shop", "TEE-6"): 6,
        ("shop", "KIT-1"): 5,
        ("shop", "CAP-1"): 5,
        ("amzn", "A-TEE"): 30,
        ("shop", "BIG-1"): 0,
        ("shop", "SOCK-1"): 0,
    }


@pytest.mark.parametrize(
    ("changed", "dependent"),
    [
        ("CAP", {"CAP-1", "KIT-1", "BIG-1"}),
        ("TEE", {"TEE-1", "TEE-6", "KIT-1", "A-TEE", "BIG-1"}),
        ("SOCK", {"SOCK-1", "BIG-1"}),
    ],
)
def test_a_stock_change_recomputes_exactly_the_dependent_listings(
    shop: Services, changed: str, dependent: set[str]
) -> None:
    with shop.uow() as uow:
        result = refresh_listings(uow, shop, [Sku(changed)])
    assert {listing for _, listing in result.computed} == dependent


def test_versions_increase_on_every_change_and_only_then(shop: Services) -> None:
    before = stored(shop)
    stock.receive(shop, "CAP", "WH1", 3, actor=ME)
    after = stored(shop)
    assert after[("shop", "CAP-1")] == (8, before[("shop", "CAP-1")][1] + 1)
    assert after[("shop", "KIT-1")] == (8, before[("shop", "KIT-1")][1] + 1)  # 41 // 2 = 20 > 8
    for key in set(before) - {("shop", "CAP-1"), ("shop", "KIT-1")}:
        assert after[key] == before[key]


def test_stored_ats_always_equals_a_fresh_explained_computation(shop: Services) -> None:
    stock.adjust(shop, "TEE", "WH2", -4, reason="lost", actor=ME)
    stock.receive(shop, "SOCK", "WH2", 2, actor=ME)
    rules.set_rule(shop, place_for(channel="amzn"), {"buffer": 2, "percent": "50"}, actor="t")
    fresh = {}
    for sku in ("TEE", "CAP", "KIT", "BIGKIT", "SOCK"):
        for x in ats.show(shop, sku).listings:
            fresh[(x.channel, x.listing)] = x.ats
    assert fresh == ats_of(shop)
    # BIGKIT = 2 KIT + 1 SOCK = 4 TEE + 2 CAP + 1 SOCK: min(37 // 4, 5 // 2, 2 // 1) = 2
    assert fresh[("shop", "BIG-1")] == 2


def test_protection_of_one_channel_limits_another_on_shared_stock(shop: Services) -> None:
    rules.set_rule(shop, place_for(channel="shop", sku="TEE"), {"protect": 35}, actor="t")
    # shop needs 35 from WH1+WH2; WH2 gives 11, so 24 of WH1's 30 are held: amzn sees 6.
    assert ats_of(shop)[("amzn", "A-TEE")] == 6
    assert ats_of(shop)[("shop", "TEE-1")] == 41
    [amazon] = ats.explain(shop, "amzn", "A-TEE").listings
    steps = {s.step: (s.value, s.level) for s in amazon.explanation}
    assert steps["pool"] == (30, "channel")
    assert steps["protections"] == (6, "sku")


def test_dry_run_shows_every_affected_listing_and_saves_nothing(shop: Services) -> None:
    before = snapshot(shop)
    change = rules.set_rule(
        shop, place_for(channel="shop", sku="TEE"), {"protect": 35}, dry_run=True, actor="t"
    )
    assert not change.saved
    assert ("amzn", "A-TEE", 30, 6) in change.effect
    assert {(c, x) for c, x, _, _ in change.effect} == {
        ("shop", "TEE-1"),
        ("shop", "TEE-6"),
        ("shop", "KIT-1"),
        ("amzn", "A-TEE"),
        ("shop", "BIG-1"),
    }
    assert snapshot(shop) == before


def test_every_saved_rule_change_is_audited(shop: Services, clock: FakeClock) -> None:
    place = place_for(channel="amzn")
    rules.set_rule(shop, place, {"buffer": 2}, actor="ana", reason="thin stock")
    clock.advance(minutes=5)
    rules.set_rule(shop, place, {"maximum": 10}, clear=["buffer"], actor="bo", reason="cap")
    newest, older = rules.rule_history(shop)[:2]
    assert (older["actor"], older["reason"], older["before"]) == ("ana", "thin stock", None)
    assert older["after"]["buffer"] == 2
    assert (newest["actor"], newest["before"]["buffer"], newest["after"]["buffer"]) == (
        "bo",
        2,
        None,
    )
    assert newest["after"]["maximum"] == 10
    assert newest["at"] - older["at"] == timedelta(minutes=5)


def test_event_profile_applies_during_its_window_and_reverts_by_itself(
    shop: Services, clock: FakeClock
) -> None:
    start = clock.now + timedelta(days=1)
    rules.add_event(shop, "BFCM", start, start + timedelta(days=4))
    rules.set_rule(shop, place_for(channel="amzn", event="BFCM"), {"maximum": 3}, actor="t")
    assert ats.show(shop, "TEE").listings[-1].ats == 30
    clock.now = start
    assert ats.next_change_at(shop) == start + timedelta(days=4)
    ats.recompute_all(shop)
    assert ats_of(shop)[("amzn", "A-TEE")] == 3
    [explained] = ats.explain(shop, "amzn", "A-TEE").listings
    assert [(s.step, s.value, s.rule) for s in explained.explanation][5] == (
        "max",
        3,
        "channel amzn (event BFCM)",
    )
    clock.now = start + timedelta(days=4)
    ats.recompute_all(shop)
    assert ats_of(shop)[("amzn", "A-TEE")] == 30


def test_a_full_recompute_puts_its_ats_changes_on_the_event_feed(
    shop: Services, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockpool.services import events

    def feed_after(last: int) -> list[tuple[str, str | None, dict[str, object]]]:
        found = events.events_after(shop, last, limit=1000)
        return [(str(e.type), e.channel, e.payload) for e in found]

    start = clock.now + timedelta(days=1)
    rules.add_event(shop, "BFCM", start, start + timedelta(days=4))
    rules.set_rule(shop, place_for(channel="amzn", event="BFCM"), {"maximum": 3}, actor="t")
    last = events.events_after(shop, 0, limit=1000)[-1].id
    clock.now = start  # the window opens: `ats watch` recomputes everything
    ats.recompute_all(shop)
    changed = feed_after(last)
    assert [(kind, channel) for kind, channel, _ in changed] == [("ats.changed", "amzn")]
    assert changed[0][2]["listing"] == "A-TEE"
    assert changed[0][2]["ats"] == 3
    last = events.events_after(shop, 0, limit=1000)[-1].id
    ats.recompute_all(shop)  # nothing changed: nothing on the feed
    assert feed_after(last) == []
    monkeypatch.setattr(events, "ATS_EVENT_LIMIT", 0)  # a large recompute: counts per channel
    clock.now = start + timedelta(days=4)
    ats.recompute_all(shop)
    assert feed_after(last) == [
        ("ats.recomputed", "amzn", {"channel": "amzn", "changed": 1}),
    ]


def test_stock_change_during_an_event_uses_the_event_rules(
    shop: Services, clock: FakeClock
) -> None:
    rules.add_event(shop, "SALE", clock.now - timedelta(hours=1), clock.now + timedelta(hours=1))
    rules.set_rule(shop, place_for(channel="amzn", event="SALE"), {"maximum": 7}, actor="t")
    stock.receive(shop, "TEE", "WH1", 1, actor=ME)
    assert ats_of(shop)[("amzn", "A-TEE")] == 7
    clock.advance(hours=2)
    stock.receive(shop, "TEE", "WH1", 1, actor=ME)  # the plan expired: recompiled
    assert ats_of(shop)[("amzn", "A-TEE")] == 32


BAD = {
    "percent above 100": (
        lambda a: rules.set_rule(a, place_for(channel="shop"), {"percent": "101"}, actor="t"),
        InvalidInput,
        "percent must be within 0-100",
    ),
    "percent below 0": (
        lambda a: rules.set_rule(a, place_for(channel="shop"), {"percent": "-5"}, actor="t"),
        InvalidInput,
        "percent must be within 0-100",
    ),
    "negative buffer": (
        lambda a: rules.set_rule(a, place_for(channel="shop"), {"buffer": -1}, actor="t"),
        InvalidInput,
        "buffer must not be negative",
    ),
    "negative max": (
        lambda a: rules.set_rule(a, place_for(channel="shop"), {"maximum": -5}, actor="t"),
        InvalidInput,
        "maximum must not be negative",
    ),
    "negative protect": (
        lambda a: rules.set_rule(
            a, place_for(channel="shop", sku="TEE"), {"protect": -1}, actor="t"
        ),
        InvalidInput,
        "protect must not be negative",
    ),
    "unknown channel in rule": (
        lambda a: rules.set_rule(a, place_for(channel="ebay"), {"buffer": 1}, actor="t"),
        NotFound,
        "unknown channel 'ebay'",
    ),
    "unknown location in rule": (
        lambda a: rules.set_rule(
            a, place_for(channel="shop"), {"eligible_locations": ["XX"]}, actor="t"
        ),
        NotFound,
        "unknown location 'XX'",
    ),
    "unknown location for channel": (
        lambda a: channels.add_channel(a, "ebay", "ebay", ["WH9"]),
        NotFound,
        "unknown location 'WH9'",
    ),
    "unknown channel kind": (
        lambda a: channels.add_channel(a, "etsy", "etsy", ["WH1"]),
        InvalidInput,
        "channel kind must be one of",
    ),
    "channel-held stock of another channel": (
        lambda a: channels.add_channel(a, "fba2", "amazon", ["FBA"]),
        InvalidInput,
        "channel-held stock of fba",
    ),
    "bundle containing itself": (
        lambda a: channels.save_bundle(a, "LOOP", [("LOOP", 1)]),
        InvalidInput,
        "bundle cycle: LOOP -> LOOP",
    ),
    "bundle containing itself deeper": (
        lambda a: channels.save_bundle(a, "KIT", [("BIGKIT", 1)], replace=True),
        InvalidInput,
        "bundle cycle: ",
    ),
    "bundle of unknown component": (
        lambda a: channels.save_bundle(a, "NEWKIT", [("GHOST", 1)]),
        NotFound,
        "unknown component 'GHOST'",
    ),
    "bundle named like an item": (
        lambda a: channels.save_bundle(a, "TEE", [("CAP", 1)]),
        AlreadyExists,
        "is an item",
    ),
    "listing mapped to nothing": (
        lambda a: channels.add_listing(a, "shop", "X-1", "GHOST"),
        NotFound,
        "must map to an item or a bundle",
    ),
    "listing on unknown channel": (
        lambda a: channels.add_listing(a, "ebay", "X-1", "TEE"),
        NotFound,
        "unknown channel 'ebay'",
    ),
    "duplicate listing": (
        lambda a: channels.add_listing(a, "shop", "TEE-1", "CAP"),
        AlreadyExists,
        "has a listing 'TEE-1' already",
    ),
    "zero units": (
        lambda a: channels.add_listing(a, "shop", "X-0", "TEE", units=0),
        InvalidInput,
        "units must be at least 1",
    ),
    "sku rule without channel": (
        lambda a: rules.set_rule(a, place_for(channel=None, sku="TEE"), {"buffer": 1}, actor="t"),
        InvalidInput,
        "needs --channel",
    ),
    "unknown event": (
        lambda a: rules.set_rule(
            a, place_for(channel="shop", event="XMAS"), {"buffer": 1}, actor="t"
        ),
        NotFound,
        "unknown event profile 'XMAS'",
    ),
    "event ending before it starts": (
        lambda a: rules.add_event(
            a, "BAD", datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
        ),
        InvalidInput,
        "must end after it starts",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_allocation_input_is_refused_and_saves_nothing(shop: Services, case: str) -> None:
    call, error, message = BAD[case]
    before = snapshot(shop)
    with pytest.raises(error, match=message):
        call(shop)
    assert snapshot(shop) == before
    assert issubclass(error, StockpoolError)


def test_tagging_an_item_applies_its_tag_rules_at_once_and_untagging_reverts(
    shop: Services,
) -> None:
    rules.set_rule(shop, place_for(channel="shop", tag="clearance"), {"maximum": 2}, actor="me")
    assert stored(shop)[("shop", "CAP-1")][0] == 5
    catalog.update_item(shop, "CAP", tags=["clearance"])
    assert stored(shop)[("shop", "CAP-1")][0] == 2
    assert stored(shop)[("shop", "KIT-1")][0] == 5  # a limit of the cap listing, not of caps
    catalog.update_item(shop, "CAP", tags=[])
    assert stored(shop)[("shop", "CAP-1")][0] == 5
    catalog.update_item(shop, "CAP", title="Cap, navy")  # no tag change: nothing moves
    assert stored(shop)[("shop", "CAP-1")][0] == 5


def test_an_unknown_rule_setting_is_refused_and_saves_nothing(shop: Services) -> None:
    before = snapshot(shop)
    with pytest.raises(InvalidInput, match="unknown rule setting 'max'"):
        rules.set_rule(shop, place_for(channel="shop"), {"max": 2}, actor="me")
    assert snapshot(shop) == before


def test_walking_every_stored_row_beside_the_plan_stores_what_a_lookup_would(
    shop: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockpool.services import ats as ats_service

    monkeypatch.setattr(ats_service, "_WALK_ALL", 0)  # every recompute walks all rows
    before = stored(shop)
    stock.receive(shop, "CAP", "WH1", 4, actor=ME)
    rules.set_rule(shop, place_for(channel="shop"), {"buffer": 2}, actor="me")
    walked = stored(shop)
    assert walked != before
    changed = {k for k in walked if walked[k][0] != before[k][0]}
    assert all(walked[k][1] > before[k][1] for k in changed)  # versions went up
    assert all(walked[k][1] == before[k][1] for k in walked if k not in changed)
    monkeypatch.setattr(ats_service, "_WALK_ALL", 10**9)  # and now by lookups
    assert ats.recompute_all(shop).changed == {}


def test_archived_listings_and_channels_stay_out_of_the_plan_and_the_walk(
    shop: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import text

    from stockpool.services import ats as ats_service
    from stockpool.services.allocation_plan import compile_plan

    def every_row() -> dict[str, tuple[int, int]]:  # archived ones included
        with shop.uow() as uow:
            found = uow.connection.execute(  # type: ignore[attr-defined]
                text(
                    "SELECT l.listing_id, a.ats, a.ats_version FROM listings l "
                    "JOIN listing_ats a ON a.listing_row_id = l.id"
                )
            )
            return {listing: (ats, version) for listing, ats, version in found}

    monkeypatch.setattr(ats_service, "_WALK_ALL", 0)  # every recompute walks all rows
    with shop.uow() as uow:  # archived in the store: no use case archives listings yet
        connection = uow.connection  # type: ignore[attr-defined]
        for sql in (
            "UPDATE listings SET archived_at = '2026-01-01' WHERE listing_id = 'TEE-6'",
            "UPDATE channels SET archived_at = '2026-01-01' WHERE code = 'amzn'",
        ):
            connection.execute(text(sql))
        uow.commit()
    with shop.uow() as uow:
        planned = set(compile_plan(uow, shop.clock()).listings)
    assert ("shop", "TEE-6") not in planned
    assert ("amzn", "A-TEE") not in planned
    assert ("shop", "TEE-1") in planned
    before = every_row()
    stock.receive(shop, "TEE", "WH1", 4, actor=ME)
    after = every_row()
    assert after["TEE-1"] == (before["TEE-1"][0] + 4, before["TEE-1"][1] + 1)
    assert after["TEE-6"] == before["TEE-6"]
    assert after["A-TEE"] == before["A-TEE"]
    assert ats.recompute_all(shop).changed == {}
