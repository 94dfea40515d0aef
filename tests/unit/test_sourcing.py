"""Sourcing strategies and the greedy take, without a database."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.sourcing import (
    Site,
    SourcingPolicy,
    SourcingStrategy,
    ZoneDistances,
    fewest_sites,
    require_strategy,
    take_units,
)

L = LocationCode
SITES = {
    L("A"): Site(L("A"), priority=1, zone="east"),
    L("B"): Site(L("B"), priority=2, zone="west"),
    L("C"): Site(L("C"), priority=3, zone="north"),
}
HELD = {L("A"): 2, L("B"): 9, L("C"): 5}


def rank(strategy: SourcingStrategy, **kwargs: object) -> list[str]:
    policy = SourcingPolicy(strategy, SITES, **kwargs)  # type: ignore[arg-type]
    return policy.rank(SITES, HELD)


def test_priority_ranks_by_location_priority() -> None:
    assert rank(SourcingStrategy.PRIORITY) == ["A", "B", "C"]


def test_nearest_zone_ranks_by_distance_then_priority() -> None:
    distances = ZoneDistances({("north", "west"): 1, ("east", "north"): 7})
    found = rank(SourcingStrategy.NEAREST_ZONE, distances=distances, ship_to="north")
    assert found == ["C", "B", "A"]


def test_nearest_zone_without_a_ship_to_zone_is_priority() -> None:
    assert rank(SourcingStrategy.NEAREST_ZONE, distances=ZoneDistances({})) == ["A", "B", "C"]


def test_most_stock_ranks_the_fullest_location_first() -> None:
    assert rank(SourcingStrategy.MOST_STOCK) == ["B", "C", "A"]


def test_fewest_shipments_picks_one_location_that_holds_everything() -> None:
    demands = {Sku("X"): 4, Sku("Y"): 1}
    available = {Sku("X"): {L("A"): 4, L("B"): 4}, Sku("Y"): {L("B"): 1, L("C"): 1}}
    eligible = {sku: frozenset(SITES) for sku in demands}
    assert fewest_sites(demands, available, eligible, SITES) == {"B"}


def test_fewest_shipments_prefers_the_better_priorities_among_equal_sets() -> None:
    demands = {Sku("X"): 6}
    available = {Sku("X"): {L("A"): 3, L("B"): 3, L("C"): 3}}
    eligible = {Sku("X"): frozenset(SITES)}
    assert fewest_sites(demands, available, eligible, SITES) == {"A", "B"}


def test_take_units_stops_at_the_demand_and_reports_shortage() -> None:
    ranked = [L("A"), L("B"), L("C")]
    assert take_units(Sku("X"), 5, ranked, HELD) == {"A": 2, "B": 3}
    assert take_units(Sku("X"), 20, ranked, HELD) == {"A": 2, "B": 9, "C": 5}


def test_take_units_takes_the_most_a_check_allows_at_each_location() -> None:
    def keep_three_at_b(_: Sku, takes: Mapping[LocationCode, int]) -> bool:
        return HELD[L("B")] - takes.get(L("B"), 0) >= 3

    found = take_units(Sku("X"), 12, [L("B"), L("C"), L("A")], HELD, keep_three_at_b)
    assert found == {"B": 6, "C": 5, "A": 1}


def test_an_unknown_strategy_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInput, match="priority, nearest_zone, fewest_shipments"):
        require_strategy("closest")
