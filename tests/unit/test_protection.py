"""Protections over shared stock: max-flow, effective protections, what a channel may take."""

from __future__ import annotations

from fractions import Fraction
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from stockpool.domain import protection
from stockpool.domain.ids import ChannelCode, LocationCode
from stockpool.domain.protection import (
    EffectiveProtection,
    ItemSupply,
    ProtectionClaim,
    effective_levels,
    effective_protections,
    is_satisfiable,
    max_flow,
    step_two_values,
)

WH1, WH2, STORE = LocationCode("WH1"), LocationCode("WH2"), LocationCode("STORE")


def supply_of(*units: int) -> ItemSupply:
    return ItemSupply((1 << index, amount) for index, amount in enumerate(units))


def scipy_flow(demands: list[int], masks: list[int], units: list[int]) -> int:
    """Independent max-flow: source -> channels -> locations -> sink."""
    k, n = len(demands), len(units)
    size = k + n + 2
    source, sink = 0, size - 1
    big = sum(units) + 1
    capacity = np.zeros((size, size), dtype=np.int32)
    for d, (demand, mask) in enumerate(zip(demands, masks, strict=True)):
        capacity[source, 1 + d] = demand
        for loc in range(n):
            if mask >> loc & 1:
                capacity[1 + d, 1 + k + loc] = big
    for loc, amount in enumerate(units):
        capacity[1 + k + loc, sink] = amount
    return int(maximum_flow(csr_matrix(capacity), source, sink).flow_value)


def test_max_flow_routes_around_a_shared_location() -> None:
    # a can use L0 or L1, b only L1: a must go to L0 for b to be served.
    assert max_flow([5, 5], [[0, 1], [1]], [5, 5]) == 10
    assert max_flow([5, 5], [[1], [1]], [5, 5]) == 5
    assert max_flow([0, 3], [[0], []], [4]) == 0


def test_max_flow_uses_reverse_edges() -> None:
    # Greedy a->L0 first would block c; the exact answer reroutes a to L1.
    assert max_flow([4, 4, 4], [[0, 1], [1, 2], [0]], [4, 4, 4]) == 12


def test_hall_condition_catches_a_joint_shortage() -> None:
    supply = supply_of(10, 6)
    assert is_satisfiable([0b11, 0b10], [10, 6], supply)
    assert not is_satisfiable([0b11, 0b10], [11, 6], supply)
    assert not is_satisfiable([0b10, 0b10], [3, 4], supply)


def test_feasible_needs_are_kept_whole() -> None:
    claims = [
        ProtectionClaim(ChannelCode("amazon"), 2, 12, frozenset({WH1, WH2})),
        ProtectionClaim(ChannelCode("pos"), 1, 8, frozenset({WH2, STORE})),
    ]
    got = effective_protections(claims, {WH1: 10, WH2: 6, STORE: 7})

    assert got == (
        EffectiveProtection(ChannelCode("amazon"), 12, 12),
        EffectiveProtection(ChannelCode("pos"), 8, 8),
    )


def test_need_is_capped_at_what_the_channel_s_own_locations_hold() -> None:
    claims = [ProtectionClaim(ChannelCode("pos"), 1, 50, frozenset({STORE}))]

    assert effective_protections(claims, {STORE: 4, WH1: 100}) == (
        EffectiveProtection(ChannelCode("pos"), 4, 4),
    )


def test_shortage_is_served_by_priority_then_shared_in_proportion() -> None:
    # 10 units in WH1. pos (priority 1) asks 6: served whole. 4 remain for amazon (6) and
    # shopify (3) at priority 2, by Sainte-Laguë quotients protection / (held + 1/2):
    # amazon 12, 4, 2.4, ...; shopify 6, 2, 1.2. The 4 highest: amazon 12, shopify 6,
    # amazon 4, amazon 2.4 -> amazon 3, shopify 1 (exact shares 2.67 and 1.33).
    everywhere = frozenset({WH1})
    claims = [
        ProtectionClaim(ChannelCode("amazon"), 2, 6, everywhere),
        ProtectionClaim(ChannelCode("pos"), 1, 6, everywhere),
        ProtectionClaim(ChannelCode("shopify"), 2, 3, everywhere),
    ]
    got = effective_protections(claims, {WH1: 10})

    assert [(p.channel, p.requested, p.effective) for p in got] == [
        ("amazon", 6, 3),
        ("pos", 6, 6),
        ("shopify", 3, 1),
    ]


def test_equal_quotients_go_to_the_first_name() -> None:
    # 5 units, needs 4 and 4: quotients 8, 8/3, 8/5, ... alternate, "a" before "b": 3 and 2.
    levels = effective_levels([1, 1], [4, 4], [1, 1], supply_of(5), names=["b", "a"])
    assert levels == [2, 3]


def test_equal_priorities_share_in_proportion_to_protections_not_needs() -> None:
    # 6 units; a protects 12 (needs 6), b protects 3 (needs 3). Quotients by protection:
    # a 24, 8, 4.8, 3.4, 2.7; b 6, 2 -> the 6 highest give a 5, b 1 (exact 4.8 and 1.2).
    # By needs: a 12, 4, 2.4, 1.7; b 6, 2 -> a 4, b 2.
    levels = effective_levels([1, 1], [6, 3], [1, 1], supply_of(6), names="ab", weights=[12, 3])
    assert levels == [5, 1]
    assert effective_levels([1, 1], [6, 3], [1, 1], supply_of(6), names="ab") == [4, 2]


def test_more_stock_never_takes_a_unit_of_protection_away() -> None:
    # The Alabama paradox of largest remainders: three channels on one location at equal
    # priority, protections 7, 7 and 3, gave 1, 1, 1 with 3 units but 2, 2, 0 with 4.
    # Sainte-Laguë quotients protection / (held + 1/2): a and b 14, 4.67, 2.8, 2, 1.56;
    # c 6, 2, 1.2. In order (equal quotients by name): a14 b14 c6 a4.67 b4.67 a2.8 b2.8
    # a2 b2 c2, so 3 units -> 1, 1, 1; 4 -> 2, 1, 1; 5 -> 2, 2, 1; ... 10 -> 4, 4, 2.
    def levels(units: int) -> list[int]:
        needs = [min(p, units) for p in (7, 7, 3)]
        return effective_levels(
            [1, 1, 1], needs, [1, 1, 1], supply_of(units), names="abc", weights=[7, 7, 3]
        )

    assert [levels(units) for units in range(3, 11)] == [
        [1, 1, 1],
        [2, 1, 1],
        [2, 2, 1],
        [3, 2, 1],
        [3, 3, 1],
        [4, 3, 1],
        [4, 4, 1],
        [4, 4, 2],
    ]
    # c may take 3 - 2 = 1 with 3 units and 4 - 3 = 1 with 4: no longer down to 0.
    assert step_two_values([1, 1, 1], levels(3), supply_of(3))[2] == 1
    assert step_two_values([1, 1, 1], levels(4), supply_of(4))[2] == 1


def test_a_large_group_gets_its_rounded_proportional_shares() -> None:
    # 1000 units for needs 900, 600 and 301: exact shares 499.7, 333.1 and 167.1, which
    # round to 500, 333 and 167 and add up to 1000, so Sainte-Laguë gives exactly these.
    levels = effective_levels([1, 1, 1], [900, 600, 301], [1, 1, 1], supply_of(1000), names="abc")
    assert levels == [500, 333, 167]


def test_a_channel_blocked_elsewhere_does_not_hold_back_its_peers() -> None:
    # a and c share L0 (10 units); b has L1 (100 units) to itself. A single proportional
    # scale would stop b at 50; progressive filling lets b reach its full 100.
    levels = effective_levels(
        [0b01, 0b10, 0b01], [10, 100, 10], [1, 1, 1], supply_of(10, 100), names="abc"
    )
    assert levels == [5, 100, 5]


def test_step_two_with_two_protected_channels_on_overlapping_locations() -> None:
    # WH1=10, WH2=6, STORE=7 (bits 0, 1, 2). amazon {WH1, WH2} protects 12, pos {WH2, STORE}
    # protects 8; shopify {WH1, WH2} protects nothing.
    # shopify: min over sets A of the others of avail(E | N(A)) - protected(A):
    #   {}: 16;  {amazon}: 16 - 12 = 4;  {pos}: 23 - 8 = 15;  {amazon, pos}: 23 - 20 = 3.
    #   pos takes STORE 7 + WH2 1, amazon 12 of the 15 left in WH1+WH2, shopify the last 3.
    # amazon (its own 12 is not subtracted): {}: 16; {pos}: 23 - 8 = 15 -> 15.
    # pos: {}: 13; {amazon}: 23 - 12 = 11 -> 11.
    masks = [0b011, 0b110, 0b011]
    values = step_two_values(masks, [12, 8, 0], supply_of(10, 6, 7))

    assert values == [15, 11, 3]


def test_step_two_without_protections_is_the_pool() -> None:
    assert step_two_values([0b01, 0b11], [0, 0], supply_of(3, 4)) == [3, 7]


def test_supply_ignores_empty_locations_and_sums_masks() -> None:
    supply = supply_of(0, 5, 7)
    assert (supply(0b000), supply(0b001), supply(0b110), supply(0b111)) == (0, 0, 12, 12)


states = st.integers(1, 4).flatmap(
    lambda n_locations: st.tuples(
        st.lists(st.integers(0, 12), min_size=n_locations, max_size=n_locations),
        st.lists(
            st.tuples(
                st.integers(0, (1 << n_locations) - 1),  # eligible locations
                st.integers(0, 15),  # protection
                st.integers(1, 3),  # priority
            ),
            min_size=1,
            max_size=5,
        ),
    )
)


def _levels(units: list[int], claims: list[tuple[int, int, int]]) -> tuple[list[int], list[int]]:
    supply = supply_of(*units)
    masks = [mask for mask, _, _ in claims]
    needs = [min(protect, supply(mask)) for mask, protect, _ in claims]
    levels = effective_levels(
        masks,
        needs,
        [priority for _, _, priority in claims],
        supply,
        names=[str(i) for i in range(len(claims))],
        weights=[protect for _, protect, _ in claims],
    )
    return needs, levels


@settings(max_examples=300, deadline=None)
@given(states)
def test_effective_protections_are_jointly_satisfiable_and_maximal(
    state: tuple[list[int], list[tuple[int, int, int]]],
) -> None:
    units, claims = state
    masks = [mask for mask, _, _ in claims]
    needs, levels = _levels(units, claims)

    assert all(0 <= level <= need for level, need in zip(levels, needs, strict=True))
    assert scipy_flow(levels, masks, units) == sum(levels)
    for i, (level, need) in enumerate(zip(levels, needs, strict=True)):
        if level < need:  # not one unit more is possible for a cut-back channel
            more = list(levels)
            more[i] += 1
            assert scipy_flow(more, masks, units) < sum(more)


@settings(max_examples=300, deadline=None)
@given(states)
def test_higher_priority_is_never_cut_for_a_lower_one(
    state: tuple[list[int], list[tuple[int, int, int]]],
) -> None:
    units, claims = state
    masks = [mask for mask, _, _ in claims]
    needs, levels = _levels(units, claims)

    for i, (_, _, priority) in enumerate(claims):
        if levels[i] == needs[i]:
            continue
        # With every lower-priority channel at 0, channel i still cannot get one unit more.
        trial = [level if claims[j][2] <= priority else 0 for j, level in enumerate(levels)]
        trial[i] += 1
        assert scipy_flow(trial, masks, units) < sum(trial)


@settings(max_examples=300, deadline=None)
@given(states)
def test_step_two_is_the_largest_take_that_keeps_others_protected(
    state: tuple[list[int], list[tuple[int, int, int]]],
) -> None:
    units, claims = state
    masks = [mask for mask, _, _ in claims]
    _, levels = _levels(units, claims)
    supply = supply_of(*units)

    values = step_two_values(masks, levels, supply)

    for c, value in enumerate(values):
        demands = list(levels)
        demands[c] = value
        assert scipy_flow(demands, masks, units) == sum(demands)  # value is possible
        demands[c] = value + 1
        assert scipy_flow(demands, masks, units) < sum(demands)  # one more is not
        assert levels[c] <= value <= supply(masks[c])


@settings(max_examples=200, deadline=None)
@given(states)
def test_flow_fallback_agrees_with_cut_enumeration(
    state: tuple[list[int], list[tuple[int, int, int]]],
) -> None:
    units, claims = state
    masks = [mask for mask, _, _ in claims]
    needs, levels = _levels(units, claims)
    by_cuts = step_two_values(masks, levels, supply_of(*units))

    with mock.patch.object(protection, "CUT_ENUMERATION_LIMIT", 0):
        assert _levels(units, claims) == (needs, levels)
        assert step_two_values(masks, levels, supply_of(*units)) == by_cuts


def _unit_by_unit(units: list[int], claims: list[tuple[int, int, int]]) -> list[int]:
    """Sainte-Laguë one unit at a time with exact quotients, each unit checked by scipy."""
    supply = supply_of(*units)
    masks = [mask for mask, _, _ in claims]
    order = sorted(
        (priority, -Fraction(2 * protect, 2 * k + 1), str(i), i)
        for i, (mask, protect, priority) in enumerate(claims)
        for k in range(min(protect, supply(mask)))
    )
    levels = [0] * len(claims)
    for *_, i in order:
        levels[i] += 1
        if scipy_flow(levels, masks, units) < sum(levels):
            levels[i] -= 1
    return levels


@settings(max_examples=300, deadline=None)
@given(states)
def test_bulk_filling_equals_handing_out_units_one_at_a_time(
    state: tuple[list[int], list[tuple[int, int, int]]],
) -> None:
    units, claims = state
    assert _levels(units, claims)[1] == _unit_by_unit(units, claims)


# Shortages between equal priorities: few locations, several channels, two priorities.
shortages = st.integers(1, 2).flatmap(
    lambda n_locations: st.tuples(
        st.lists(st.integers(0, 12), min_size=n_locations, max_size=n_locations),
        st.lists(
            st.tuples(
                st.integers(1, (1 << n_locations) - 1),
                st.integers(0, 15),
                st.integers(1, 2),
            ),
            min_size=2,
            max_size=5,
        ),
    )
)


@settings(max_examples=500, deadline=None)
@given(states | shortages, st.integers(0, 3), st.integers(1, 8))
def test_more_stock_never_lowers_a_level_or_what_a_channel_may_take(
    state: tuple[list[int], list[tuple[int, int, int]]], location: int, extra: int
) -> None:
    units, claims = state
    masks = [mask for mask, _, _ in claims]
    where = location % len(units)
    _, before = _levels(units, claims)
    took = step_two_values(masks, before, supply_of(*units))
    for _ in range(extra):  # one unit at a time: every step must keep or raise everything
        units = [amount + (index == where) for index, amount in enumerate(units)]
        _, after = _levels(units, claims)
        takes = step_two_values(masks, after, supply_of(*units))

        assert all(a >= b for a, b in zip(after, before, strict=True)), (units, before, after)
        assert sum(after) - sum(before) <= 1
        assert all(a >= b for a, b in zip(takes, took, strict=True)), (units, took, takes)
        before, took = after, takes
