"""The order model and check-and-reserve, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockpool.domain.allocation import Channel, Listing, plan_allocation
from stockpool.domain.errors import InvalidInput, InvalidTransition
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.orders import (
    Commitment,
    LineRequest,
    NotificationKind,
    OrderLine,
    OrderStatus,
    Shortfall,
    decide_notification,
    require_lines,
    require_shippable,
    resize,
    status_of,
)
from stockpool.domain.reservation import check_and_source, cover, released
from stockpool.domain.rules import NO_RULES, ResolvedField, ResolvedRules, RuleLevel
from stockpool.domain.sourcing import Site, SourcingPolicy, SourcingStrategy

T = datetime(2026, 3, 1, tzinfo=UTC)
WEB, POS = ChannelCode("web"), ChannelCode("pos")
A, B = LocationCode("A"), LocationCode("B")
TEE = Sku("TEE")
POLICY = SourcingPolicy(SourcingStrategy.PRIORITY, {A: Site(A, 1), B: Site(B, 2)})


def line(listing: str = "W-TEE", quantity: int = 1, **kwargs: object) -> OrderLine:
    return OrderLine(1, ListingId(listing), TEE, ((TEE, 1),), quantity, **kwargs)  # type: ignore[arg-type]


def test_lines_of_the_same_listing_are_merged_in_order() -> None:
    merged = require_lines(
        [
            LineRequest(ListingId("x"), 1),
            LineRequest(ListingId("y"), 2),
            LineRequest(ListingId("x"), 3),
        ]
    )
    assert merged == (LineRequest(ListingId("x"), 4), LineRequest(ListingId("y"), 2))


def test_an_order_without_lines_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="at least one line"):
        require_lines([])


def test_an_order_is_open_until_every_unit_is_shipped_or_cancelled() -> None:
    assert status_of([line(quantity=2, shipped=1)]) is OrderStatus.OPEN
    assert status_of([line(quantity=2, shipped=1, cancelled=1)]) is OrderStatus.SHIPPED
    assert status_of([line(quantity=2, cancelled=2)]) is OrderStatus.CANCELLED


def test_a_resize_never_drops_below_the_shipped_units() -> None:
    assert resize(line(quantity=5, shipped=3), 1) == (5, 2)
    assert resize(line(quantity=5), 7) == (7, 0)


def test_missing_units_cannot_ship() -> None:
    short = line(quantity=3, commitments=(Commitment(TEE, A, committed=2),))
    assert (short.covered, short.missing) == (2, 1)
    with pytest.raises(InvalidTransition, match="oversold"):
        require_shippable(short, 3)


def test_released_units_come_from_the_last_ranked_location_first() -> None:
    held = line(
        quantity=4,
        cancelled=1,
        commitments=(Commitment(TEE, A, committed=2), Commitment(TEE, B, committed=2)),
    )
    assert released(held) == {TEE: [(B, 1)]}


@pytest.mark.parametrize(
    ("kind", "minutes", "has_lines", "expected"),
    [
        (NotificationKind.CREATE, 0, True, "ignore"),
        (NotificationKind.UPDATE, -5, True, "ignore"),
        (NotificationKind.UPDATE, 5, True, "apply"),
        (NotificationKind.CREATE, -5, False, "fill"),
        (NotificationKind.CANCEL, -5, False, "ignore"),
    ],
)
def test_notifications_apply_by_the_channels_own_update_time(
    kind: NotificationKind, minutes: int, has_lines: bool, expected: str
) -> None:
    found = decide_notification(
        kind, T + timedelta(minutes=minutes), stored_at=T, exists=True, has_lines=has_lines
    )
    assert found == expected


def _plan(protect_pos: int = 0):  # type: ignore[no-untyped-def]
    rules = (
        ResolvedRules(protect=ResolvedField(protect_pos, RuleLevel.CHANNEL, "pos"))
        if protect_pos
        else NO_RULES
    )
    return plan_allocation(
        [Channel(WEB, 1, frozenset({A, B})), Channel(POS, 2, frozenset({A}))],
        [Listing(WEB, ListingId("W-TEE"), TEE), Listing(POS, ListingId("P-TEE"), TEE)],
        channel_rules={POS: rules},
    )


def test_a_line_beyond_ats_is_short_and_takes_nothing() -> None:
    found = check_and_source(
        _plan(), WEB, [line(quantity=6)], {TEE: {A: 3, B: 2}}, oversold=(), policy=POLICY
    )
    assert found.shortfall == (Shortfall(ListingId("W-TEE"), 6, 5),)
    assert found.takes == ({},)


def test_an_oversold_item_has_no_ats() -> None:
    found = check_and_source(
        _plan(), WEB, [line(quantity=1)], {TEE: {A: 3}}, oversold=[TEE], policy=POLICY
    )
    assert found.shortfall == (Shortfall(ListingId("W-TEE"), 1, 0),)


def test_sourcing_leaves_another_channels_protection_in_place() -> None:
    found = check_and_source(
        _plan(protect_pos=2),
        WEB,
        [line(quantity=3)],
        {TEE: {A: 3, B: 2}},
        oversold=(),
        policy=POLICY,
    )
    assert found.shortfall == ()
    assert found.takes == ({TEE: {A: 1, B: 2}},)


def test_cover_commits_what_stock_allows() -> None:
    assert cover(_plan(), WEB, [line(quantity=9)], {TEE: {A: 3, B: 2}}, policy=POLICY) == (
        {TEE: {A: 3, B: 2}},
    )
