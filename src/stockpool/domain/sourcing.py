"""Sourcing: which locations serve the lines of an accepted order.

A line of `n` listing units needs `n x multiplier x component quantity` units of each leaf
item. Each item is taken from the channel's eligible locations that hold available units,
in the order the channel's strategy ranks them:

- `priority`: location priority (lower first), then code;
- `nearest_zone`: the zone distance from the order's ship-to zone (unknown distances last),
  then priority; without a ship-to zone it is `priority`;
- `fewest_shipments`: the smallest set of locations that can serve the whole order (fewer
  parcels), ties broken by the priorities of the set; then priority;
- `most_stock`: the location holding most of the item first, then priority.

A take may also be bounded by a check (see `stockpool.domain.orders.protection_check`):
every other channel's protection must stay satisfiable from its own locations. The units a
channel may take without breaking any protection form a polymatroid, so taking greedily
location by location, each as much as the check allows, reaches the channel's full
available-to-sell in whatever order the strategy ranks the locations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import combinations

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku

# Beyond this many candidate locations, fewest shipments is chosen greedily (set cover).
EXACT_SET_LIMIT = 12
UNKNOWN_DISTANCE = 10**9

TakeCheck = Callable[[Sku, Mapping[LocationCode, int]], bool]
"""Whether taking these units of an item (per location) keeps every protection."""


class SourcingStrategy(StrEnum):
    """How a channel's orders choose their locations."""

    PRIORITY = "priority"
    NEAREST_ZONE = "nearest_zone"
    FEWEST_SHIPMENTS = "fewest_shipments"
    MOST_STOCK = "most_stock"


def require_strategy(text: str) -> SourcingStrategy:
    """Parse a sourcing strategy, listing the valid ones when it is not."""
    try:
        return SourcingStrategy(text)
    except ValueError:
        names = ", ".join(s.value for s in SourcingStrategy)
        raise InvalidInput(f"sourcing must be one of {names}, got {text!r}") from None


@dataclass(frozen=True, slots=True)
class Site:
    """A location as sourcing sees it: its priority (lower first) and zone."""

    code: LocationCode
    priority: int = 100
    zone: str | None = None


@dataclass(frozen=True)
class ZoneDistances:
    """Distances between zones; symmetric, 0 within a zone, unknown when not given."""

    table: Mapping[tuple[str, str], int] = field(default_factory=dict)

    def between(self, a: str | None, b: str | None) -> int:
        """The distance from `a` to `b`, or `UNKNOWN_DISTANCE`."""
        if a is None or b is None:
            return UNKNOWN_DISTANCE
        if a == b:
            return 0
        return self.table.get(zone_pair(a, b), UNKNOWN_DISTANCE)


def zone_pair(a: str, b: str) -> tuple[str, str]:
    """The key of a zone distance: the two zones in sorted order."""
    return (a, b) if a <= b else (b, a)


def require_distance(value: int) -> int:
    """A zone distance: a whole number, zero or more."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"a zone distance must be a whole number, zero or more, got {value!r}")
    return value


@dataclass(frozen=True)
class SourcingPolicy:
    """Everything a channel's strategy needs to rank locations for one order.

    Attributes:
        strategy: the channel's strategy.
        sites: every location that may appear, by code.
        distances: the zone distance table.
        ship_to: the order's ship-to zone, if known.
        preferred: for fewest shipments, the set chosen for the whole order.
    """

    strategy: SourcingStrategy
    sites: Mapping[LocationCode, Site]
    distances: ZoneDistances = field(default_factory=ZoneDistances)
    ship_to: str | None = None
    preferred: frozenset[LocationCode] = frozenset()

    def _site(self, code: LocationCode) -> Site:
        return self.sites.get(code) or Site(code)

    def rank(
        self, candidates: Iterable[LocationCode], available: Mapping[LocationCode, int]
    ) -> list[LocationCode]:
        """The candidate locations of one item, best first."""

        def by_priority(code: LocationCode) -> tuple[int, str]:
            return (self._site(code).priority, code)

        found = sorted(set(candidates), key=by_priority)
        if self.strategy is SourcingStrategy.NEAREST_ZONE and self.ship_to is not None:
            found.sort(key=lambda c: self.distances.between(self.ship_to, self._site(c).zone))
        elif self.strategy is SourcingStrategy.MOST_STOCK:
            found.sort(key=lambda c: -available.get(c, 0))
        elif self.strategy is SourcingStrategy.FEWEST_SHIPMENTS and self.preferred:
            found.sort(key=lambda c: c not in self.preferred)
        return found


def fewest_sites(
    demands: Mapping[Sku, int],
    available: Mapping[Sku, Mapping[LocationCode, int]],
    eligible: Mapping[Sku, frozenset[LocationCode]],
    sites: Mapping[LocationCode, Site],
) -> frozenset[LocationCode]:
    """The smallest set of locations that can serve every demand, best priorities first.

    Exact for up to `EXACT_SET_LIMIT` candidate locations, greedy set cover beyond. When
    no set covers everything, the set that covers most units (empty if nothing is held).
    """
    candidates = sorted(
        {
            loc
            for sku in demands
            for loc in eligible.get(sku, ())
            if available.get(sku, {}).get(loc, 0) > 0
        },
        key=lambda c: ((sites.get(c) or Site(c)).priority, c),
    )

    def covered(chosen: Iterable[LocationCode]) -> int:
        picked = set(chosen)
        return sum(
            min(need, sum(available.get(sku, {}).get(loc, 0) for loc in picked & eligible[sku]))
            for sku, need in demands.items()
            if sku in eligible
        )

    total = sum(demands.values())
    if len(candidates) <= EXACT_SET_LIMIT:
        for size in range(1, len(candidates) + 1):
            for chosen in combinations(candidates, size):
                if covered(chosen) >= total:
                    return frozenset(chosen)
    chosen_list: list[LocationCode] = []
    while candidates and covered(chosen_list) < total:
        best = max(candidates, key=lambda c: covered([*chosen_list, c]))
        if covered([*chosen_list, best]) == covered(chosen_list):
            break
        chosen_list.append(best)
        candidates.remove(best)
    return frozenset(chosen_list)


def take_units(
    sku: Sku,
    demand: int,
    ranked: Iterable[LocationCode],
    available: Mapping[LocationCode, int],
    check: TakeCheck | None = None,
) -> dict[LocationCode, int]:
    """Take up to `demand` units of an item from locations in rank order.

    Args:
        sku: the item.
        demand: units wanted.
        ranked: the candidate locations, best first.
        available: available units of the item per location.
        check: if given, every take must pass it (protections of other channels).

    Returns:
        Units taken per location; fewer than `demand` in total when stock runs short.
    """
    takes: dict[LocationCode, int] = {}
    left = demand
    for code in ranked:
        if left <= 0:
            break
        most = min(left, available.get(code, 0))
        if most <= 0:
            continue
        units = most if check is None else _largest_passing(sku, takes, code, most, check)
        if units:
            takes[code] = units
            left -= units
    return takes


def _largest_passing(
    sku: Sku, takes: dict[LocationCode, int], code: LocationCode, most: int, check: TakeCheck
) -> int:
    """The most units (<= most) that can be added at `code`; passing is monotone in units."""
    if check(sku, {**takes, code: most}):
        return most
    low, high = 0, most  # check passes at low, fails at high
    while high - low > 1:
        middle = (low + high) // 2
        if check(sku, {**takes, code: middle}):
            low = middle
        else:
            high = middle
    return low
