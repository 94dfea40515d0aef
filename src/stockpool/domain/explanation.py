"""Explained ATS: every step of a listing's available-to-sell, with the rule behind it.

"Why does Amazon show 12?" is answered by the steps of DESIGN §3 in order: pool, protections,
units, buffer, percent, max, floor, non_negative, each with the number after it and the rule
(and its level) that produced it. A step whose rule is not set still appears, with the number
unchanged and no rule. For a bundle, pool and protections describe the component that limits
it. The numbers are the same as those of `compute_ats_values`; the listing steps are computed
here on their own, with exact fractions, so that each path checks the other.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from stockpool.domain.allocation import (
    AllocationPlan,
    ItemSettings,
    PlannedListing,
    RuleConflict,
)
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.protection import ItemSupply, effective_levels, step_two_values
from stockpool.domain.rules import ResolvedField, ResolvedRules

STEPS = ("pool", "protections", "units", "buffer", "percent", "max", "floor", "non_negative")


@dataclass(frozen=True, slots=True)
class ExplanationStep:
    """One step of an ATS computation: the number after it and the rule that produced it."""

    step: str
    value: int
    rule: str | None
    level: str | None


@dataclass(frozen=True, slots=True)
class ListingAts:
    """The ATS of one listing and how it came about."""

    channel: ChannelCode
    listing: ListingId
    ats: int
    explanation: tuple[ExplanationStep, ...]


@dataclass(frozen=True, slots=True)
class AtsResult:
    """Explained ATS of listings, with the protection conflicts met on the way."""

    listings: tuple[ListingAts, ...]
    conflicts: tuple[RuleConflict, ...]


@dataclass(frozen=True, slots=True)
class _ItemView:
    """Steps 1-2 of one item for every channel, and the protections behind step 2."""

    settings: ItemSettings
    pools: tuple[int, ...]
    needs: tuple[int, ...]
    levels: tuple[int, ...]
    step_two: tuple[int, ...]


def _view_item(
    plan: AllocationPlan,
    sku: Sku,
    available: Mapping[LocationCode, int],
    conflicts: list[RuleConflict],
) -> _ItemView:
    settings = plan.settings(sku)
    bits = plan.location_bits
    supply = ItemSupply((bits[code], units) for code, units in available.items() if code in bits)
    pools = tuple(supply(mask) for mask in settings.masks)
    needs = tuple(min(p, pool) for p, pool in zip(settings.protects, pools, strict=True))
    levels = effective_levels(
        settings.masks,
        needs,
        [channel.priority for channel in plan.channels],
        supply,
        names=[channel.code for channel in plan.channels],
        weights=settings.protects,
    )
    for channel, need, level in zip(plan.channels, needs, levels, strict=True):
        if level < need:
            conflicts.append(RuleConflict(sku, channel.code, need, level))
    step_two = tuple(step_two_values(settings.masks, levels, supply))
    return _ItemView(settings, pools, needs, tuple(levels), step_two)


def compute_ats(
    plan: AllocationPlan,
    available: Mapping[Sku, Mapping[LocationCode, int]],
    *,
    items: Iterable[Sku] | None = None,
) -> AtsResult:
    """ATS of every listing (in plan order) with the explanation of each step.

    Args:
        plan: the catalog and rules.
        available: available units per item and location (missing means 0).
        items: if given, only the listings whose ATS depends on these items (their own
            listings first, then the bundles containing them).

    Returns:
        Explained ATS per listing, and protection conflicts of the items computed.
    """
    if items is None:
        entries: Iterable[PlannedListing] = plan.listings
    else:
        wanted = list(dict.fromkeys(items))
        found = [e for sku in wanted for e in plan.singles.get(sku, ())]
        found += [e for sku in wanted for e in plan.bundled_by_item.get(sku, ())]
        entries = {id(entry): entry for entry in found}.values()
    conflicts: list[RuleConflict] = []
    views: dict[Sku, _ItemView] = {}

    def view_of(sku: Sku) -> _ItemView:
        if sku not in views:
            views[sku] = _view_item(plan, sku, available.get(sku, {}), conflicts)
        return views[sku]

    explained = tuple(_explain(plan, entry, view_of) for entry in entries)
    return AtsResult(explained, tuple(conflicts))


def _explain(
    plan: AllocationPlan, entry: PlannedListing, view_of: Callable[[Sku], _ItemView]
) -> ListingAts:
    index, listing = entry.channel_index, entry.listing
    sku, quantity = min(entry.components, key=lambda c: view_of(c[0]).step_two[index] // c[1])
    view = view_of(sku)
    is_bundle = entry.components != ((listing.sku, 1),)
    prefix = f"component {sku} x{quantity} limits; " if is_bundle else ""
    steps = [
        _pool_step(plan, view, index, prefix),
        _protections_step(plan, view, index, prefix),
    ]
    value = view.step_two[index] // quantity // entry.multiplier
    unit_rule = f"{entry.multiplier} units per listing unit" if entry.multiplier > 1 else None
    if is_bundle:
        unit_rule = ", ".join(filter(None, (f"bundle {listing.sku}: {prefix[:-2]}", unit_rule)))
    steps.append(ExplanationStep("units", value, unit_rule, "listing" if unit_rule else None))
    value = _limit_steps(value, entry.rules, steps)
    steps.append(ExplanationStep("non_negative", max(value, 0), None, None))
    return ListingAts(listing.channel, listing.listing_id, max(value, 0), tuple(steps))


def _pool_step(plan: AllocationPlan, view: _ItemView, index: int, prefix: str) -> ExplanationStep:
    channel = plan.channels[index]
    mask = view.settings.masks[index]
    where = ", ".join(code for code, bit in plan.location_bits.items() if bit & mask)
    source = view.settings.rules[index].eligible_locations
    label, level = (
        (source.rule, source.level) if source.level else (f"channel {channel.code}", "channel")
    )
    text = f"{prefix}available at {where or 'no location'} ({label})"
    return ExplanationStep("pool", view.pools[index], text, str(level))


def _protections_step(
    plan: AllocationPlan, view: _ItemView, index: int, prefix: str
) -> ExplanationStep:
    parts: list[str] = []
    levels: set[str] = set()
    for other, protected in enumerate(view.levels):
        if other == index or protected == 0:
            continue
        source = view.settings.rules[other].protect
        short = f" of {view.needs[other]}" if protected < view.needs[other] else ""
        parts.append(f"{plan.channels[other].code} {protected}{short} ({source.rule})")
        levels.add(str(source.level))
    if not parts:
        return ExplanationStep("protections", view.step_two[index], None, None)
    text = f"{prefix}protected for other channels: {', '.join(parts)}"
    level = levels.pop() if len(levels) == 1 else None
    return ExplanationStep("protections", view.step_two[index], text, level)


def _limit_steps(value: int, rules: ResolvedRules, steps: list[ExplanationStep]) -> int:
    def record(step: str, field: ResolvedField[Any]) -> None:
        level = None if field.level is None else str(field.level)
        steps.append(ExplanationStep(step, value, field.rule, level))

    if rules.buffer.value is not None:
        value -= rules.buffer.value
    record("buffer", rules.buffer)
    if rules.percent.value is not None and value > 0:
        value = math.floor(Fraction(rules.percent.value) * value / 100)
    record("percent", rules.percent)
    if rules.maximum.value is not None:
        value = min(value, rules.maximum.value)
    record("max", rules.maximum)
    if rules.floor.value is not None and value < rules.floor.value:
        value = 0
    record("floor", rules.floor)
    return value
