"""Reservation: does an order fit available-to-sell, and where is each line committed.

`check_and_source` takes the lines of a check-and-reserve order one after the other. Each
line is checked against its listing's ATS computed from what is left after the lines
before it (so two lines sharing an item can never jointly exceed it), with every listing
of an item that has an open oversold exception at 0; a line that fits is sourced at once
(see `stockpool.domain.sourcing`) without breaking another channel's protection. The
order fits only if every line does.

`cover` is the ingest side: a channel has already sold the units, so they are committed
from the channel's eligible locations as far as stock allows, whatever ATS says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from stockpool.domain.allocation import AllocationPlan, ListingKey, compute_ats_values
from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.domain.orders import OrderLine, Shortfall
from stockpool.domain.protection import ItemSupply, effective_levels, is_satisfiable
from stockpool.domain.sourcing import (
    SourcingPolicy,
    SourcingStrategy,
    TakeCheck,
    fewest_sites,
    take_units,
)

Stock = dict[Sku, dict[LocationCode, int]]
Takes = dict[Sku, dict[LocationCode, int]]


@dataclass(frozen=True)
class Reservation:
    """Per line (in order), the units taken per item and location; and any shortfall."""

    takes: tuple[Takes, ...]
    shortfall: tuple[Shortfall, ...]


def channel_index(plan: AllocationPlan, channel: ChannelCode) -> int:
    """The position of a channel in the plan."""
    for index, found in enumerate(plan.channels):
        if found.code == channel:
            return index
    raise KeyError(channel)


def eligible_locations(plan: AllocationPlan, index: int, sku: Sku) -> frozenset[LocationCode]:
    """The locations whose stock of `sku` may serve the channel at `index` (rules applied)."""
    mask = plan.settings(sku).masks[index]
    return frozenset(code for code, bit in plan.location_bits.items() if bit & mask)


def listings_depending_on(plan: AllocationPlan, skus: Iterable[Sku]) -> set[ListingKey]:
    """Every listing whose ATS depends on one of these items (its own, and bundles)."""
    found: set[ListingKey] = set()
    for sku in skus:
        found.update(entry.key for entry in plan.singles.get(sku, ()))
        found.update(entry.key for entry in plan.bundled_by_item.get(sku, ()))
    return found


def zero_oversold(
    plan: AllocationPlan, values: Mapping[ListingKey, int], oversold: Iterable[Sku]
) -> dict[ListingKey, int]:
    """ATS values with every listing depending on an oversold item forced to 0."""
    result = dict(values)
    for key in listings_depending_on(plan, oversold):
        if key in result:
            result[key] = 0
    return result


def protection_check(
    plan: AllocationPlan, index: int, available: Mapping[Sku, Mapping[LocationCode, int]]
) -> TakeCheck:
    """A check that a take by the channel at `index` leaves every other protection whole.

    The other channels' effective protections are computed once per item from
    `available`; a take passes when they are all still satisfiable, each from its own
    eligible locations, from what is left.
    """
    levels: dict[Sku, list[int]] = {}
    bits = plan.location_bits

    def supply_of(sku: Sku, minus: Mapping[LocationCode, int]) -> ItemSupply:
        held = available.get(sku, {})
        return ItemSupply(
            (bit, held.get(code, 0) - minus.get(code, 0)) for code, bit in bits.items()
        )

    def others(sku: Sku) -> list[int]:
        settings = plan.settings(sku)
        supply = supply_of(sku, {})
        needs = [min(p, supply(m)) for p, m in zip(settings.protects, settings.masks, strict=True)]
        found = effective_levels(
            settings.masks,
            needs,
            [c.priority for c in plan.channels],
            supply,
            names=[c.code for c in plan.channels],
            weights=settings.protects,
        )
        found[index] = 0
        return found

    def check(sku: Sku, takes: Mapping[LocationCode, int]) -> bool:
        settings = plan.settings(sku)
        if not settings.protected:
            return True
        if sku not in levels:
            levels[sku] = others(sku)
        return is_satisfiable(settings.masks, levels[sku], supply_of(sku, takes))

    return check


def _ats_of(
    plan: AllocationPlan, key: ListingKey, line: OrderLine, left: Stock, oversold: set[Sku]
) -> int:
    skus = [sku for sku, _ in line.components]
    if oversold.intersection(skus):
        return 0
    values = compute_ats_values(plan, left, items=skus).values
    return values.get(key, 0)


def _take_line(
    plan: AllocationPlan,
    index: int,
    line: OrderLine,
    left: Stock,
    policy: SourcingPolicy,
    check: TakeCheck | None,
) -> tuple[Takes, bool]:
    """Take a line's open need from `left` (changed in place); whether all of it was found."""
    takes: Takes = {}
    whole = True
    for sku, per in line.components:
        need = line.open * per - line.committed(sku)
        if need <= 0:
            continue
        held = left.setdefault(sku, {})
        ranked = policy.rank(eligible_locations(plan, index, sku), held)
        got = take_units(sku, need, ranked, held, check)
        for code, units in got.items():
            held[code] -= units
        takes[sku] = got
        whole = whole and sum(got.values()) == need
    return takes, whole


def _with_preferred(
    plan: AllocationPlan,
    index: int,
    lines: Sequence[OrderLine],
    left: Stock,
    policy: SourcingPolicy,
) -> SourcingPolicy:
    if policy.strategy is not SourcingStrategy.FEWEST_SHIPMENTS:
        return policy
    demands: dict[Sku, int] = {}
    for line in lines:
        for sku, per in line.components:
            demands[sku] = demands.get(sku, 0) + line.open * per - line.committed(sku)
    eligible = {sku: eligible_locations(plan, index, sku) for sku in demands}
    chosen = fewest_sites(demands, left, eligible, policy.sites)
    return replace(policy, preferred=chosen)


def check_and_source(
    plan: AllocationPlan,
    channel: ChannelCode,
    lines: Sequence[OrderLine],
    available: Mapping[Sku, Mapping[LocationCode, int]],
    *,
    oversold: Iterable[Sku],
    policy: SourcingPolicy,
) -> Reservation:
    """Check every line against ATS at this instant and source the ones that fit.

    Args:
        plan: the allocation plan.
        channel: the order's channel.
        lines: the order's lines, nothing committed yet.
        available: locked available units per item and location.
        oversold: items with an open oversold exception (their listings sell nothing).
        policy: the channel's sourcing.

    Returns:
        The takes of every line, and a shortfall for each line that does not fit (the
        order is accepted only when there is none).
    """
    index = channel_index(plan, channel)
    left: Stock = {sku: dict(held) for sku, held in available.items()}
    short_items = set(oversold)
    policy = _with_preferred(plan, index, lines, left, policy)
    takes: list[Takes] = []
    shortfall: list[Shortfall] = []
    for line in lines:
        ats = _ats_of(plan, (channel, line.listing_id), line, left, short_items)
        if line.quantity > ats:
            shortfall.append(Shortfall(line.listing_id, line.quantity, ats))
            takes.append({})
            continue
        check = protection_check(plan, index, left)
        got, whole = _take_line(plan, index, line, left, policy, check)
        if not whole:  # cannot happen when ATS is right; refuse rather than overcommit
            shortfall.append(Shortfall(line.listing_id, line.quantity, ats))
        takes.append(got)
    return Reservation(tuple(takes), tuple(shortfall))


def cover(
    plan: AllocationPlan,
    channel: ChannelCode,
    lines: Sequence[OrderLine],
    available: Mapping[Sku, Mapping[LocationCode, int]],
    *,
    policy: SourcingPolicy,
) -> tuple[Takes, ...]:
    """Commit what stock allows of the lines' uncommitted need (an order already sold).

    Returns:
        Per line, the units taken per item and location (possibly less than the need).
    """
    index = channel_index(plan, channel)
    left: Stock = {sku: dict(held) for sku, held in available.items()}
    policy = _with_preferred(plan, index, lines, left, policy)
    return tuple(_take_line(plan, index, line, left, policy, None)[0] for line in lines)


def released(line: OrderLine) -> dict[Sku, list[tuple[LocationCode, int]]]:
    """Committed units beyond a line's open need, to release, last-ranked locations first."""
    found: dict[Sku, list[tuple[LocationCode, int]]] = {}
    for sku, per in line.components:
        excess = line.committed(sku) - line.open * per
        rows = [(c.location, c.committed) for c in reversed(line.commitments) if c.sku == sku]
        for code, held in rows:
            if excess <= 0:
                break
            take = min(held, excess)
            if take > 0:
                found.setdefault(sku, []).append((code, take))
                excess -= take
    return found
