"""Available-to-sell per listing: hand-computed cases, explanations and bundles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockpool.domain.allocation import (
    AllocationPlan,
    Bundle,
    BundleCycle,
    Channel,
    Listing,
    RuleConflict,
    check_bundles,
    compute_ats_values,
    find_bundle_cycle,
    flatten_bundle,
    plan_allocation,
)
from stockpool.domain.explanation import STEPS, ExplanationStep, ListingAts, compute_ats
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.rules import EventProfile, Rule, RuleBook, RuleLevel

WH1, WH2, STORE = LocationCode("WH1"), LocationCode("WH2"), LocationCode("STORE")
SHOPIFY, AMAZON, POS, EBAY = (
    ChannelCode("shopify"),
    ChannelCode("amazon"),
    ChannelCode("pos"),
    ChannelCode("ebay"),
)
TEE, MUG = Sku("TEE-M"), Sku("MUG")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def plan_with(
    channels: Sequence[Channel],
    listings: Sequence[Listing],
    book: RuleBook | None = None,
    *,
    at: datetime = NOW,
    bundles: Mapping[Sku, Bundle] | None = None,
) -> AllocationPlan:
    """Resolve the book at `at` for every channel, item and listing, and plan."""
    snapshot = (book or RuleBook()).at(at)
    bundles = bundles or {}
    items = {Sku(s) for listing in listings for s in _leaves(listing.sku, bundles)}
    return plan_allocation(
        channels,
        listings,
        bundles=bundles,
        item_rules={
            (c.code, sku): snapshot.resolve(c.code, sku=sku) for c in channels for sku in items
        },
        listing_rules={
            lst.key: snapshot.resolve(lst.channel, sku=lst.sku, listing=lst.listing_id)
            for lst in listings
        },
    )


def _leaves(sku: Sku, bundles: Mapping[Sku, Bundle]) -> list[Sku]:
    return list(flatten_bundle(bundles[sku], bundles)) if sku in bundles else [sku]


def listing(channel: ChannelCode, lid: str, sku: Sku = TEE, multiplier: int = 1) -> Listing:
    return Listing(channel, ListingId(lid), sku, multiplier)


def only(channel: ChannelCode, *locations: LocationCode, priority: int = 1) -> Channel:
    return Channel(channel, priority, frozenset(locations))


def ats_of(
    plan: AllocationPlan, available: Mapping[Sku, Mapping[LocationCode, int]]
) -> dict[str, int]:
    """ATS by listing id from the explained path, checked against the fast path."""
    explained = compute_ats(plan, available)
    fast = compute_ats_values(plan, available)
    by_id: dict[str, int] = {row.listing: row.ats for row in explained.listings}
    assert fast.values == {(row.channel, row.listing): row.ats for row in explained.listings}
    assert fast.conflicts == explained.conflicts
    return by_id


def explain(
    plan: AllocationPlan, available: Mapping[Sku, Mapping[LocationCode, int]], lid: str
) -> ListingAts:
    rows = [row for row in compute_ats(plan, available).listings if row.listing == lid]
    assert len(rows) == 1
    return rows[0]


def channel_rule(channel: ChannelCode, **settings: object) -> Rule:
    return Rule(RuleLevel.CHANNEL, None, channel, **settings)  # type: ignore[arg-type]


def test_percent_rounds_down_at_low_stock() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "S1")],
        RuleBook((channel_rule(SHOPIFY, percent=Decimal(50)),)),
    )
    # 50 % of 3 is 1.5, shown as 1; of 1 is 0.
    assert ats_of(plan, {TEE: {WH1: 3}}) == {"S1": 1}
    assert ats_of(plan, {TEE: {WH1: 1}}) == {"S1": 0}
    assert ats_of(plan, {TEE: {WH1: 4}}) == {"S1": 2}


def test_odd_percent_is_exact_decimal_arithmetic() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "S1")],
        RuleBook((channel_rule(SHOPIFY, percent=Decimal("33.33")),)),
    )
    # 33.33 % of 300 = 99.99 -> 99 (a float 0.3333 * 300 would risk 99.99000000000001).
    assert ats_of(plan, {TEE: {WH1: 300}}) == {"S1": 99}
    assert ats_of(plan, {TEE: {WH1: 10000}}) == {"S1": 3333}


def test_floor_shows_zero_below_it_and_the_quantity_from_it() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "S1")],
        RuleBook((channel_rule(SHOPIFY, floor=5),)),
    )
    assert ats_of(plan, {TEE: {WH1: 4}}) == {"S1": 0}
    assert ats_of(plan, {TEE: {WH1: 5}}) == {"S1": 5}


def test_multipack_divides_rounding_down() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "SIX", multiplier=6), listing(SHOPIFY, "ONE")],
    )
    # A 6-pack of 11 units shows 1.
    assert ats_of(plan, {TEE: {WH1: 11}}) == {"SIX": 1, "ONE": 11}
    assert ats_of(plan, {TEE: {WH1: 12}}) == {"SIX": 2, "ONE": 12}


def test_buffer_and_max_act_in_listing_units() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "SIX", multiplier=6)],
        RuleBook((channel_rule(SHOPIFY, buffer=1, maximum=2),)),
    )
    # 40 units = 6 six-packs; minus 1 buffer = 5; capped at 2.
    assert ats_of(plan, {TEE: {WH1: 40}}) == {"SIX": 2}
    assert ats_of(plan, {TEE: {WH1: 12}}) == {"SIX": 1}
    assert ats_of(plan, {TEE: {WH1: 5}}) == {"SIX": 0}  # 0 - 1 is never shown


NESTED = {
    Sku("KIT-A"): Bundle(Sku("KIT-A"), ((TEE, 2), (Sku("KIT-B"), 1))),
    Sku("KIT-B"): Bundle(Sku("KIT-B"), ((MUG, 1), (TEE, 1))),
}


def test_flatten_bundle_multiplies_nested_quantities() -> None:
    assert flatten_bundle(NESTED[Sku("KIT-A")], NESTED) == {TEE: 3, MUG: 1}
    deep = {
        Sku("OUTER"): Bundle(Sku("OUTER"), ((Sku("INNER"), 2),)),
        Sku("INNER"): Bundle(Sku("INNER"), ((MUG, 3),)),
    }
    assert flatten_bundle(deep[Sku("OUTER")], deep) == {MUG: 6}


def test_nested_bundle_shows_the_minimum_over_its_components() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "KA", Sku("KIT-A")), listing(SHOPIFY, "KB", Sku("KIT-B"))],
        bundles=NESTED,
    )
    # KIT-A = 3 TEE-M + 1 MUG: min(10 // 3, 5 // 1) = 3; KIT-B = 1 + 1: min(10, 5) = 5.
    assert ats_of(plan, {TEE: {WH1: 10}, MUG: {WH1: 5}}) == {"KA": 3, "KB": 5}
    # MUG gone: both bundles go to 0.
    assert ats_of(plan, {TEE: {WH1: 10}}) == {"KA": 0, "KB": 0}


def test_bundle_explanation_names_the_limiting_component() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1)],
        [listing(SHOPIFY, "KA", Sku("KIT-A"), multiplier=2)],
        bundles=NESTED,
    )
    row = explain(plan, {TEE: {WH1: 20}, MUG: {WH1: 9}}, "KA")

    # 20 // 3 = 6 kits by TEE-M, 9 by MUG: TEE-M limits; a 2-kit listing shows 3.
    assert row.ats == 3
    assert row.explanation[:3] == (
        ExplanationStep(
            "pool", 20, "component TEE-M x3 limits; available at WH1 (channel shopify)", "channel"
        ),
        ExplanationStep("protections", 20, None, None),
        ExplanationStep(
            "units",
            3,
            "bundle KIT-A: component TEE-M x3 limits, 2 units per listing unit",
            "listing",
        ),
    )


def test_bundle_cycles_are_found_and_named() -> None:
    looped = {
        Sku("KIT-A"): Bundle(Sku("KIT-A"), ((TEE, 1), (Sku("KIT-B"), 1))),
        Sku("KIT-B"): Bundle(Sku("KIT-B"), ((Sku("KIT-A"), 2),)),
    }
    assert find_bundle_cycle(looped) == ("KIT-A", "KIT-B", "KIT-A")
    assert find_bundle_cycle(NESTED) is None
    with pytest.raises(BundleCycle, match="KIT-A -> KIT-B -> KIT-A"):
        check_bundles(looped)
    with pytest.raises(BundleCycle, match="KIT-B -> KIT-A -> KIT-B"):
        flatten_bundle(looped[Sku("KIT-B")], looped)
    with pytest.raises(BundleCycle, match="KIT-A -> KIT-B -> KIT-A"):
        plan_allocation([only(SHOPIFY, WH1)], [listing(SHOPIFY, "K", Sku("KIT-A"))], bundles=looped)


def test_bundle_and_listing_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="quantity of MUG must be at least 1"):
        Bundle(Sku("K"), ((MUG, 0),))
    with pytest.raises(ValueError, match="needs at least one component"):
        Bundle(Sku("K"), ())
    with pytest.raises(ValueError, match="multiplier must be at least 1"):
        listing(SHOPIFY, "S", multiplier=0)
    with pytest.raises(ValueError, match="unknown channel amazon"):
        plan_allocation([only(SHOPIFY, WH1)], [listing(AMAZON, "A")])


OVERLAP = [
    only(SHOPIFY, WH1, WH2, priority=3),
    only(AMAZON, WH1, WH2, priority=2),
    only(POS, WH2, STORE, priority=1),
]


def test_overlapping_eligibility_with_two_protected_channels() -> None:
    # WH1=10, WH2=6, STORE=7. amazon {WH1, WH2} protects 12; pos {WH2, STORE} protects 8.
    # Jointly fine: pos takes STORE 7 + WH2 1, amazon 12 of the remaining 10 + 5.
    # shopify {WH1, WH2}, pool 16: the worst set of others is {amazon, pos}, whose locations
    #   hold 23 and who protect 20 -> 3 (amazon alone: 16 - 12 = 4; pos alone: 23 - 8 = 15).
    # amazon, pool 16: only pos is "other": 23 - 8 = 15 (its own 12 is not subtracted).
    # pos, pool 13: only amazon is "other": 23 - 12 = 11.
    book = RuleBook((channel_rule(AMAZON, protect=12), channel_rule(POS, protect=8)))
    plan = plan_with(
        OVERLAP, [listing(SHOPIFY, "S"), listing(AMAZON, "A"), listing(POS, "P")], book
    )
    stock = {TEE: {WH1: 10, WH2: 6, STORE: 7}}

    assert ats_of(plan, stock) == {"S": 3, "A": 15, "P": 11}
    assert compute_ats(plan, stock).conflicts == ()
    assert explain(plan, stock, "S").explanation[:2] == (
        ExplanationStep("pool", 16, "available at WH1, WH2 (channel shopify)", "channel"),
        ExplanationStep(
            "protections",
            3,
            "protected for other channels: amazon 12 (channel amazon), pos 8 (channel pos)",
            "channel",
        ),
    )


def test_protections_beyond_supply_follow_priority_then_proportion() -> None:
    # WH1 holds 10. pos (priority 1) protects 6 and gets 6. amazon and ebay (priority 2)
    # protect 6 and 3: 4 units left, shares 2.67 and 1.33 -> 2 and 1, and the last unit goes
    # to amazon, which lags most: amazon 3 of 6, ebay 1 of 3, both reported as conflicts.
    # shopify (unprotected) gets 10 - 6 - 3 - 1 = 0; amazon 10 - 6 - 1 = 3; ebay 10 - 9 = 1;
    # pos 10 - 4 = 6.
    channels = [
        only(SHOPIFY, WH1, priority=3),
        only(AMAZON, WH1, priority=2),
        only(EBAY, WH1, priority=2),
        only(POS, WH1, priority=1),
    ]
    book = RuleBook(
        (
            channel_rule(AMAZON, protect=6),
            channel_rule(EBAY, protect=3),
            channel_rule(POS, protect=6),
        )
    )
    plan = plan_with(
        channels,
        [listing(SHOPIFY, "S"), listing(AMAZON, "A"), listing(EBAY, "E"), listing(POS, "P")],
        book,
    )
    stock = {TEE: {WH1: 10}}

    assert ats_of(plan, stock) == {"S": 0, "A": 3, "E": 1, "P": 6}
    assert compute_ats(plan, stock).conflicts == (
        RuleConflict(TEE, AMAZON, 6, 3),
        RuleConflict(TEE, EBAY, 3, 1),
    )
    assert explain(plan, stock, "A").explanation[1].rule == (
        "protected for other channels: ebay 1 of 3 (channel ebay), pos 6 (channel pos)"
    )


def test_event_profile_before_during_and_after_its_window() -> None:
    start, end = NOW, NOW + timedelta(days=4)
    bfcm = EventProfile(
        "BFCM",
        start,
        end,
        (
            channel_rule(POS, protect=5, event="BFCM"),
            channel_rule(SHOPIFY, maximum=3, event="BFCM"),
        ),
    )
    book = RuleBook((channel_rule(SHOPIFY, buffer=1),), (bfcm,))
    channels = [only(SHOPIFY, WH1, priority=2), only(POS, WH1, priority=1)]
    listings = [listing(SHOPIFY, "S"), listing(POS, "P")]
    stock = {TEE: {WH1: 12}}

    def at(moment: datetime) -> dict[str, int]:
        return ats_of(plan_with(channels, listings, book, at=moment), stock)

    assert at(start - timedelta(seconds=1)) == {"S": 11, "P": 12}
    # During: pos ring-fences 5 (12 - 5 = 7), buffer 1 -> 6, event cap 3.
    assert at(start) == {"S": 3, "P": 12}
    assert at(end - timedelta(seconds=1)) == {"S": 3, "P": 12}
    assert at(end) == {"S": 11, "P": 12}
    during = explain(plan_with(channels, listings, book, at=start), stock, "S")
    assert during.explanation[5] == ExplanationStep(
        "max", 3, "channel shopify (event BFCM)", "channel"
    )


def test_listing_max_keeps_the_channel_buffer_and_every_step_is_explained() -> None:
    book = RuleBook(
        (
            channel_rule(SHOPIFY, buffer=2, percent=Decimal(80)),
            Rule(RuleLevel.LISTING, "S1", SHOPIFY, maximum=5),
            Rule(RuleLevel.GLOBAL, None, None, floor=2),
        )
    )
    plan = plan_with(
        [only(SHOPIFY, WH1, WH2)], [listing(SHOPIFY, "S1"), listing(SHOPIFY, "S2")], book
    )
    stock = {TEE: {WH1: 4, WH2: 5, STORE: 100}}

    row = explain(plan, stock, "S1")

    # pool 9 (STORE is not eligible); buffer 2 -> 7; 80 % -> 5.6 -> 5; max 5; floor 2 -> 5.
    assert row == ListingAts(
        SHOPIFY,
        ListingId("S1"),
        5,
        (
            ExplanationStep("pool", 9, "available at WH1, WH2 (channel shopify)", "channel"),
            ExplanationStep("protections", 9, None, None),
            ExplanationStep("units", 9, None, None),
            ExplanationStep("buffer", 7, "channel shopify", "channel"),
            ExplanationStep("percent", 5, "channel shopify", "channel"),
            ExplanationStep("max", 5, "listing S1 x shopify", "listing"),
            ExplanationStep("floor", 5, "global", "global"),
            ExplanationStep("non_negative", 5, None, None),
        ),
    )
    assert tuple(step.step for step in row.explanation) == STEPS
    assert ats_of(plan, {TEE: {WH1: 3}}) == {"S1": 0, "S2": 0}  # 3 - 2 = 1, 80 % = 0 < floor 2


def test_sku_rule_overrides_the_channel_s_eligible_locations() -> None:
    book = RuleBook((Rule(RuleLevel.SKU, MUG, SHOPIFY, eligible_locations=frozenset({STORE})),))
    plan = plan_with(
        [only(SHOPIFY, WH1)], [listing(SHOPIFY, "T", TEE), listing(SHOPIFY, "M", MUG)], book
    )
    stock = {TEE: {WH1: 4, STORE: 9}, MUG: {WH1: 4, STORE: 9}}

    assert ats_of(plan, stock) == {"T": 4, "M": 9}
    assert explain(plan, stock, "M").explanation[0] == ExplanationStep(
        "pool", 9, "available at STORE (sku MUG x shopify)", "sku"
    )


def test_incremental_recompute_covers_own_listings_and_bundles_containing_the_item() -> None:
    plan = plan_with(
        [only(SHOPIFY, WH1), only(AMAZON, WH1)],
        [
            listing(SHOPIFY, "S-TEE"),
            listing(AMAZON, "A-TEE"),
            listing(SHOPIFY, "S-MUG", MUG),
            listing(SHOPIFY, "S-KB", Sku("KIT-B")),
        ],
        bundles=NESTED,
    )
    stock = {TEE: {WH1: 7}, MUG: {WH1: 2}}

    touched = compute_ats_values(plan, stock, items=[TEE])
    explained = compute_ats(plan, stock, items=[TEE])

    assert touched.values == {
        (SHOPIFY, "S-TEE"): 7,
        (AMAZON, "A-TEE"): 7,
        (SHOPIFY, "S-KB"): 2,
    }
    assert {(row.channel, row.listing): row.ats for row in explained.listings} == touched.values
    assert compute_ats_values(plan, stock, items=[Sku("UNKNOWN")]).values == {}


def test_missing_stock_counts_as_zero() -> None:
    plan = plan_with([only(SHOPIFY, WH1)], [listing(SHOPIFY, "S")])
    assert ats_of(plan, {}) == {"S": 0}


def test_channel_rules_apply_to_listings_and_items_without_their_own_entry() -> None:
    snapshot = RuleBook((channel_rule(SHOPIFY, buffer=1), channel_rule(AMAZON, protect=4))).at(NOW)
    channels = [only(SHOPIFY, WH1), only(AMAZON, WH1)]
    plan = plan_allocation(
        channels,
        [listing(SHOPIFY, "S"), listing(AMAZON, "A")],
        channel_rules={c.code: snapshot.resolve(c.code) for c in channels},
    )
    # shopify: 10 - amazon's 4 = 6, buffer 1 -> 5; amazon keeps its whole pool.
    assert ats_of(plan, {TEE: {WH1: 10}}) == {"S": 5, "A": 10}
