"""Allocation rules: validation, per-field precedence, event profiles, protection windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.rules import (
    EventProfile,
    InvalidRule,
    ResolvedField,
    Rule,
    RuleBook,
    RuleLevel,
    resolve_rules,
)

SHOPIFY = ChannelCode("shopify")
AMAZON = ChannelCode("amazon")
RED_M = Sku("RED-M")
T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def channel_rule(channel: ChannelCode = SHOPIFY, **settings: object) -> Rule:
    return Rule(RuleLevel.CHANNEL, None, channel, **settings)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["protect", "buffer", "maximum", "floor"])
def test_negative_counts_are_rejected_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidRule, match=f"channel shopify: {name} must not be negative"):
        channel_rule(SHOPIFY, **{name: -1})


@pytest.mark.parametrize("percent", ["-0.01", "100.5", "NaN"])
def test_percent_outside_0_to_100_is_rejected(percent: str) -> None:
    with pytest.raises(InvalidRule, match="percent must be within 0-100"):
        channel_rule(percent=Decimal(percent))


@pytest.mark.parametrize("percent", ["0", "100", "33.33"])
def test_percent_bounds_are_inclusive(percent: str) -> None:
    assert channel_rule(percent=Decimal(percent)).percent == Decimal(percent)


def test_protect_window_must_end_after_it_starts() -> None:
    with pytest.raises(InvalidRule, match="protect_end must be after protect_start"):
        channel_rule(protect=5, protect_start=T0, protect_end=T0)


def test_protect_window_needs_aware_times_and_a_protection() -> None:
    with pytest.raises(InvalidRule, match="protect_start must be timezone-aware"):
        channel_rule(protect=5, protect_start=datetime(2026, 1, 1))
    with pytest.raises(InvalidRule, match="protect_end is set without protect"):
        channel_rule(protect_end=T0)


def test_rule_scope_is_checked() -> None:
    with pytest.raises(InvalidRule, match="a sku rule needs target"):
        Rule(RuleLevel.SKU, None, SHOPIFY, buffer=1)
    with pytest.raises(InvalidRule, match="a channel rule takes no target"):
        Rule(RuleLevel.CHANNEL, "x", SHOPIFY, buffer=1)
    with pytest.raises(InvalidRule, match="channel must be set except for the global default"):
        Rule(RuleLevel.TAG, "summer", None, buffer=1)
    with pytest.raises(InvalidRule, match="protect and eligible_locations are item units"):
        Rule(RuleLevel.LISTING, "L1", SHOPIFY, protect=1)
    with pytest.raises(InvalidRule, match="eligible_locations are per channel"):
        Rule(RuleLevel.GLOBAL, None, None, eligible_locations=frozenset())


def test_invalid_rule_is_an_invalid_input_and_a_value_error() -> None:
    assert issubclass(InvalidRule, InvalidInput)
    assert issubclass(InvalidRule, ValueError)


def test_labels_name_level_target_channel_and_event() -> None:
    assert Rule(RuleLevel.SKU, RED_M, SHOPIFY).label == "sku RED-M x shopify"
    assert Rule(RuleLevel.LISTING, "L1", AMAZON).label == "listing L1 x amazon"
    assert Rule(RuleLevel.TAG, "summer", AMAZON).label == "tag summer x amazon"
    assert channel_rule(event="BFCM").label == "channel shopify (event BFCM)"
    assert Rule(RuleLevel.GLOBAL, None, None).label == "global"


def test_listing_maximum_still_inherits_the_channel_buffer() -> None:
    book = RuleBook(
        (
            channel_rule(buffer=2, maximum=100),
            Rule(RuleLevel.LISTING, "L1", SHOPIFY, maximum=5),
        )
    )

    resolved = resolve_rules(book, SHOPIFY, at=T0, sku=RED_M, listing=ListingId("L1"))

    assert resolved.maximum == ResolvedField(5, RuleLevel.LISTING, "listing L1 x shopify")
    assert resolved.buffer == ResolvedField(2, RuleLevel.CHANNEL, "channel shopify")
    assert resolved.percent == ResolvedField(None, None, None)
    assert resolved.limits == (2, -1, 1, 5, 0)


def test_each_field_comes_from_the_most_specific_level_that_sets_it() -> None:
    book = RuleBook(
        (
            Rule(RuleLevel.GLOBAL, None, None, floor=1, buffer=9, percent=Decimal(90)),
            channel_rule(buffer=3, maximum=40),
            Rule(RuleLevel.TAG, "summer", SHOPIFY, maximum=30, protect=4),
            Rule(RuleLevel.SKU, RED_M, SHOPIFY, maximum=20),
            Rule(RuleLevel.LISTING, "L1", SHOPIFY, maximum=10),
        )
    )
    snapshot = book.at(T0)

    on_listing = snapshot.resolve(SHOPIFY, sku=RED_M, listing=ListingId("L1"), tags=["summer"])
    on_other_listing = snapshot.resolve(SHOPIFY, sku=RED_M, listing=ListingId("L2"))
    on_tagged_item = snapshot.resolve(SHOPIFY, sku=Sku("BLUE-M"), tags=["summer"])

    assert on_listing.maximum.value == 10
    assert on_listing.protect == ResolvedField(4, RuleLevel.TAG, "tag summer x shopify")
    assert on_listing.buffer == ResolvedField(3, RuleLevel.CHANNEL, "channel shopify")
    assert on_listing.floor == ResolvedField(1, RuleLevel.GLOBAL, "global")
    assert on_listing.percent.value == Decimal(90)
    assert on_other_listing.maximum == ResolvedField(20, RuleLevel.SKU, "sku RED-M x shopify")
    assert on_other_listing.protect.value is None  # the tag rule is not in play without tags
    assert on_tagged_item.maximum.value == 30
    assert snapshot.resolve(AMAZON).buffer == ResolvedField(9, RuleLevel.GLOBAL, "global")


def test_first_tag_in_the_given_order_wins() -> None:
    book = RuleBook(
        (
            Rule(RuleLevel.TAG, "summer", SHOPIFY, buffer=1),
            Rule(RuleLevel.TAG, "sale", SHOPIFY, buffer=2),
        )
    )
    snapshot = book.at(T0)

    assert snapshot.resolve(SHOPIFY, tags=("sale", "summer")).buffer.value == 2
    assert snapshot.resolve(SHOPIFY, tags=("summer", "sale")).buffer.value == 1


def test_event_profile_applies_only_inside_its_window() -> None:
    start, end = T0, T0 + timedelta(days=4)
    bfcm = EventProfile(
        "BFCM",
        start,
        end,
        (channel_rule(maximum=10, event="BFCM"),),
    )
    book = RuleBook((channel_rule(buffer=2, maximum=50),), (bfcm,))

    before = resolve_rules(book, SHOPIFY, at=start - timedelta(seconds=1))
    during = resolve_rules(book, SHOPIFY, at=start)
    last_moment = resolve_rules(book, SHOPIFY, at=end - timedelta(microseconds=1))
    after = resolve_rules(book, SHOPIFY, at=end)

    assert before.maximum == ResolvedField(50, RuleLevel.CHANNEL, "channel shopify")
    assert during.maximum == ResolvedField(10, RuleLevel.CHANNEL, "channel shopify (event BFCM)")
    assert last_moment.maximum.value == 10
    assert after.maximum == before.maximum
    # The event sets only the maximum: the standing buffer of the same key still applies.
    assert during.buffer == ResolvedField(2, RuleLevel.CHANNEL, "channel shopify")


def test_event_rule_at_a_broad_level_does_not_beat_a_more_specific_standing_rule() -> None:
    bfcm = EventProfile(
        "BFCM", T0, T0 + timedelta(days=1), (channel_rule(maximum=10, event="BFCM"),)
    )
    book = RuleBook((Rule(RuleLevel.SKU, RED_M, SHOPIFY, maximum=3),), (bfcm,))

    assert resolve_rules(book, SHOPIFY, at=T0, sku=RED_M).maximum.value == 3
    assert resolve_rules(book, SHOPIFY, at=T0, sku=Sku("OTHER")).maximum.value == 10


def test_later_starting_event_wins_when_events_overlap() -> None:
    season = EventProfile(
        "SEASON", T0, T0 + timedelta(days=30), (channel_rule(buffer=5, event="SEASON"),)
    )
    flash = EventProfile(
        "FLASH",
        T0 + timedelta(days=2),
        T0 + timedelta(days=3),
        (channel_rule(buffer=1, event="FLASH"),),
    )
    book = RuleBook((channel_rule(buffer=9),), (flash, season))

    assert resolve_rules(book, SHOPIFY, at=T0 + timedelta(days=1)).buffer.value == 5
    assert resolve_rules(book, SHOPIFY, at=T0 + timedelta(days=2)).buffer.rule == (
        "channel shopify (event FLASH)"
    )
    assert resolve_rules(book, SHOPIFY, at=T0 + timedelta(days=3)).buffer.value == 5


def test_protection_outside_its_window_is_zero_from_the_rule_that_set_it() -> None:
    book = RuleBook(
        (
            channel_rule(protect=7),
            Rule(
                RuleLevel.SKU,
                RED_M,
                SHOPIFY,
                protect=20,
                protect_start=T0,
                protect_end=T0 + timedelta(hours=6),
            ),
        )
    )

    inside = resolve_rules(book, SHOPIFY, at=T0 + timedelta(hours=1), sku=RED_M)
    outside = resolve_rules(book, SHOPIFY, at=T0 + timedelta(hours=6), sku=RED_M)
    early = resolve_rules(book, SHOPIFY, at=T0 - timedelta(hours=1), sku=RED_M)

    assert inside.protect == ResolvedField(20, RuleLevel.SKU, "sku RED-M x shopify")
    assert outside.protect == ResolvedField(
        0, RuleLevel.SKU, "sku RED-M x shopify, outside its protection window"
    )
    assert early.protect.value == 0
    assert resolve_rules(book, SHOPIFY, at=T0, sku=Sku("OTHER")).protect.value == 7


def test_eligible_locations_resolve_like_any_field() -> None:
    store = frozenset({LocationCode("STORE")})
    book = RuleBook((Rule(RuleLevel.SKU, RED_M, SHOPIFY, eligible_locations=store),))

    assert resolve_rules(book, SHOPIFY, at=T0, sku=RED_M).eligible_locations == ResolvedField(
        store, RuleLevel.SKU, "sku RED-M x shopify"
    )
    assert resolve_rules(book, SHOPIFY, at=T0).eligible_locations.value is None


def test_percent_becomes_an_exact_fraction_in_limits() -> None:
    book = RuleBook((channel_rule(percent=Decimal("12.5"), floor=3),))

    limits = resolve_rules(book, SHOPIFY, at=T0).limits

    assert limits == (0, 25, 200, -1, 3)  # 12.5 % = 25/200


def test_resolution_is_shared_between_listings_hitting_the_same_rules() -> None:
    snapshot = RuleBook((channel_rule(buffer=1),)).at(T0)

    first = snapshot.resolve(SHOPIFY, sku=Sku("A"), listing=ListingId("L-A"))
    second = snapshot.resolve(SHOPIFY, sku=Sku("B"), listing=ListingId("L-B"))

    assert first is second


def test_rule_book_rejects_duplicates_and_misplaced_event_rules() -> None:
    with pytest.raises(InvalidRule, match="more than one standing rule"):
        RuleBook((channel_rule(buffer=1), channel_rule(buffer=2)))
    with pytest.raises(InvalidRule, match="belongs in event profile BFCM"):
        RuleBook((channel_rule(buffer=1, event="BFCM"),))
    with pytest.raises(InvalidRule, match="must name it as event"):
        EventProfile("BFCM", T0, T0 + timedelta(days=1), (channel_rule(buffer=1),))
    with pytest.raises(InvalidRule, match="end must be after start"):
        EventProfile("BFCM", T0, T0, ())


def test_event_is_active_from_start_until_excluding_end() -> None:
    event = EventProfile("E", T0, T0 + timedelta(hours=1), ())

    assert event.is_active(T0)
    assert not event.is_active(T0 + timedelta(hours=1))
    assert not event.is_active(T0 - timedelta(microseconds=1))


def test_resolution_instant_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        RuleBook().at(datetime(2026, 1, 1))
