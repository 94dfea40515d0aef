"""Available-to-sell (ATS): how many units each listing may show on its channel.

For a listing of item `i` on channel `c` the steps are, in this order:

1. pool: `available` of `i` summed over `c`'s eligible locations;
2. protections: what `c` may take from that pool while every other channel keeps its
   effective protection (see `stockpool.domain.protection`); `c`'s own protection is part of
   its pool;
3. units: divided by the listing's units multiplier, rounded down; a bundle shows the minimum
   over its leaf components of `floor(component units after steps 1-2 / quantity)`;
4. buffer, then percent (rounded down, exact), then maximum, then floor (below it, show 0);
5. never below 0.

Two paths compute it: `stockpool.domain.explanation.compute_ats` explains every step of every
listing; `compute_ats_values` here gives the same numbers only, sharing the per-item work
across all channels and listings of an item, for full recomputes and for the listings touched
by one stock change. Both run on an `AllocationPlan`: everything that does not depend on stock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.protection import (
    ItemSupply,
    effective_levels,
    location_bits,
    mask_of,
    step_two_values,
)
from stockpool.domain.rules import NO_RULES, ResolvedRules

ListingKey = tuple[ChannelCode, ListingId]
_EMPTY: Mapping[LocationCode, int] = {}


@dataclass(frozen=True, slots=True)
class Channel:
    """A sales channel as allocation sees it: lower `priority` is served first."""

    code: ChannelCode
    priority: int
    eligible_locations: frozenset[LocationCode]


class BundleCycle(InvalidInput):
    """A bundle that contains itself, directly or through other bundles."""

    def __init__(self, path: Sequence[Sku]) -> None:
        super().__init__("bundle cycle: " + " -> ".join(path))
        self.path = tuple(path)


@dataclass(frozen=True, slots=True)
class Bundle:
    """A kit: `components` are (SKU, quantity) pairs, a SKU being an item or another bundle."""

    sku: Sku
    components: tuple[tuple[Sku, int], ...]

    def __post_init__(self) -> None:
        if not self.components:
            raise ValueError(f"bundle {self.sku}: needs at least one component")
        for sku, quantity in self.components:
            if quantity < 1:
                raise ValueError(f"bundle {self.sku}: quantity of {sku} must be at least 1")


def find_bundle_cycle(bundles: Mapping[Sku, Bundle]) -> tuple[Sku, ...] | None:
    """A cycle among bundles, as a path that ends where it starts, or `None` if there is none."""
    finished: set[Sku] = set()
    path: list[Sku] = []

    def visit(sku: Sku) -> tuple[Sku, ...] | None:
        if sku in finished or sku not in bundles:
            return None
        if sku in path:
            return (*path[path.index(sku) :], sku)
        path.append(sku)
        for child, _ in bundles[sku].components:
            found = visit(child)
            if found is not None:
                return found
        path.pop()
        finished.add(sku)
        return None

    for start in sorted(bundles):
        found = visit(start)
        if found is not None:
            return found
    return None


def check_bundles(bundles: Mapping[Sku, Bundle]) -> None:
    """Reject bundle definitions that contain a cycle.

    Raises:
        BundleCycle: naming the cycle path.
    """
    cycle = find_bundle_cycle(bundles)
    if cycle is not None:
        raise BundleCycle(cycle)


def flatten_bundle(bundle: Bundle, bundles: Mapping[Sku, Bundle]) -> dict[Sku, int]:
    """The leaf items of a bundle with their total quantities.

    Nesting multiplies quantities; that is exact for ATS because
    `floor(floor(x / a) / b) == floor(x / (a * b))` for positive integers.

    Raises:
        BundleCycle: naming the cycle, e.g. "KIT-A -> KIT-B -> KIT-A".
    """
    leaves: dict[Sku, int] = {}

    def visit(sku: Sku, quantity: int, path: tuple[Sku, ...]) -> None:
        if sku in path:
            raise BundleCycle((*path[path.index(sku) :], sku))
        inner = bundles.get(sku) if path else bundle
        if inner is None:
            leaves[sku] = leaves.get(sku, 0) + quantity
            return
        for child, count in inner.components:
            visit(child, quantity * count, (*path, sku))

    visit(bundle.sku, 1, ())
    return leaves


@dataclass(frozen=True, slots=True)
class Listing:
    """What a channel sells: `multiplier` units of one item or bundle per listing unit."""

    channel: ChannelCode
    listing_id: ListingId
    sku: Sku
    multiplier: int = 1

    def __post_init__(self) -> None:
        if self.multiplier < 1:
            raise ValueError(f"listing {self.listing_id}: multiplier must be at least 1")

    @property
    def key(self) -> ListingKey:
        """(channel, listing id), unique across the catalog."""
        return (self.channel, self.listing_id)


@dataclass(frozen=True, slots=True)
class RuleConflict:
    """A protection that could not be honoured in full, in item units.

    `requested` is the protection capped at what the channel's own locations hold;
    `effective` is what it gets once higher-priority protections are served.
    """

    sku: Sku
    channel: ChannelCode
    requested: int
    effective: int


@dataclass(frozen=True, slots=True)
class AtsValues:
    """ATS numbers by (channel, listing id), with the protection conflicts met on the way."""

    values: dict[ListingKey, int]
    conflicts: tuple[RuleConflict, ...]


@dataclass(frozen=True, slots=True)
class ItemSettings:
    """Per channel (in plan order): eligible locations as a mask, protection, and rules.

    `channels_by_bit` names, for each location bit, the channels (by index) whose pool holds
    that location: an unprotected item's pools are then one pass over its stock.
    """

    masks: tuple[int, ...]
    protects: tuple[int, ...]
    rules: tuple[ResolvedRules, ...]
    protected: bool
    channels_by_bit: dict[int, tuple[int, ...]]

    @classmethod
    def of(
        cls, masks: tuple[int, ...], protects: tuple[int, ...], rules: tuple[ResolvedRules, ...]
    ) -> ItemSettings:
        """Settings from per-channel masks, protections and rules."""
        bits = {1 << n for mask in masks for n in range(mask.bit_length()) if mask >> n & 1}
        by_bit = {bit: tuple(i for i, m in enumerate(masks) if m & bit) for bit in bits}
        return cls(masks, protects, rules, any(protects), by_bit)


class ListingLike(Protocol):
    """What the plan reads of a listing: `Listing`, or any record with these attributes
    (the store hands over light tuples, since a plan holds every listing)."""

    @property
    def channel(self) -> ChannelCode: ...
    @property
    def listing_id(self) -> ListingId: ...
    @property
    def sku(self) -> Sku: ...
    @property
    def multiplier(self) -> int: ...


class PlannedListing(NamedTuple):
    """A listing with its channel index, leaf components (SKU, quantity) and rules.

    A plain tuple: a plan holds one per listing, hundreds of thousands of them.
    """

    listing: ListingLike
    key: ListingKey
    channel_index: int
    multiplier: int
    components: tuple[tuple[Sku, int], ...]
    rules: ResolvedRules


@dataclass(frozen=True, slots=True)
class AllocationPlan:
    """Everything ATS needs except stock. Build it with `plan_allocation`."""

    channels: tuple[Channel, ...]
    location_bits: dict[LocationCode, int]
    item_settings: dict[Sku, ItemSettings]
    default_settings: ItemSettings
    singles: dict[Sku, tuple[PlannedListing, ...]]
    bundled: tuple[PlannedListing, ...]
    bundled_by_item: dict[Sku, tuple[PlannedListing, ...]]
    listings: tuple[PlannedListing, ...]

    def settings(self, sku: Sku) -> ItemSettings:
        """The channel settings of one leaf item."""
        return self.item_settings.get(sku, self.default_settings)


def plan_allocation(
    channels: Sequence[Channel],
    listings: Iterable[ListingLike],
    *,
    bundles: Mapping[Sku, Bundle] | None = None,
    item_rules: Mapping[tuple[ChannelCode, Sku], ResolvedRules] | None = None,
    listing_rules: Mapping[ListingKey, ResolvedRules] | None = None,
    channel_rules: Mapping[ChannelCode, ResolvedRules] | None = None,
) -> AllocationPlan:
    """Prepare ATS computation for a catalog and the rules resolved at one instant.

    Args:
        channels: the channels, each listed once.
        listings: all listings; their channels must be among `channels`.
        bundles: bundle definitions by SKU; any other SKU is an item.
        item_rules: protection and eligible locations per (channel, leaf item SKU).
        listing_rules: buffer, percent, maximum and floor per (channel, listing id).
        channel_rules: settings for an item or listing without its own entry.

    Returns:
        The plan, to be used with any stock levels.

    Raises:
        BundleCycle: if a bundle contains itself.
        ValueError: for a listing of an unknown channel or a channel listed twice.
    """
    bundles, item_rules = bundles or {}, item_rules or {}
    listing_rules, channel_rules = listing_rules or {}, channel_rules or {}
    index = {channel.code: i for i, channel in enumerate(channels)}
    if len(index) != len(channels):
        raise ValueError("each channel must be listed once")
    defaults = tuple(channel_rules.get(channel.code, NO_RULES) for channel in channels)
    planned: list[PlannedListing] = []
    singles: dict[Sku, list[PlannedListing]] = {}
    bundled: list[PlannedListing] = []
    # Per SKU, made once and shared by its listings on every channel: its leaf components,
    # and the list its listings join (its own among `singles`, or `bundled`).
    per_sku: dict[Sku, tuple[tuple[tuple[Sku, int], ...], list[PlannedListing]]] = {}
    make = tuple.__new__  # a plan holds one tuple per listing: skip NamedTuple's Python __new__
    add, sku_of, rules_of, position_of = planned.append, per_sku.get, listing_rules.get, index.get
    for listing in listings:
        channel, sku = listing.channel, listing.sku
        position = position_of(channel)
        if position is None:
            raise ValueError(f"listing {listing.listing_id}: unknown channel {channel}")
        found = sku_of(sku)
        if found is None:
            if sku in bundles:
                leaves = tuple(sorted(flatten_bundle(bundles[sku], bundles).items()))
                found = per_sku[sku] = (leaves, bundled)
            else:
                found = per_sku[sku] = (((sku, 1),), singles.setdefault(sku, []))
        key = (channel, listing.listing_id)
        rules = rules_of(key, defaults[position])
        entry = make(PlannedListing, (listing, key, position, listing.multiplier, found[0], rules))
        add(entry)
        found[1].append(entry)
    eligible = [loc for c in channels for loc in c.eligible_locations]
    eligible += [
        loc for r in (*item_rules.values(), *defaults) for loc in r.eligible_locations.value or ()
    ]
    bits = location_bits(eligible)
    return _assemble(channels, (planned, singles, bundled), bits, item_rules, defaults)


def _assemble(
    channels: Sequence[Channel],
    entries: tuple[list[PlannedListing], dict[Sku, list[PlannedListing]], list[PlannedListing]],
    bits: dict[LocationCode, int],
    item_rules: Mapping[tuple[ChannelCode, Sku], ResolvedRules],
    defaults: tuple[ResolvedRules, ...],
) -> AllocationPlan:
    planned, singles, bundled = entries
    shared: dict[tuple[int, ...], ItemSettings] = {}

    def settings_for(rules: tuple[ResolvedRules, ...]) -> ItemSettings:
        found = shared.get(tuple(map(id, rules)))
        if found is None:
            masks = tuple(
                mask_of(
                    c.eligible_locations
                    if r.eligible_locations.value is None
                    else r.eligible_locations.value,
                    bits,
                )
                for r, c in zip(rules, channels, strict=True)
            )
            protects = tuple(r.protect.value or 0 for r in rules)
            found = ItemSettings.of(masks, protects, rules)
            shared[tuple(map(id, rules))] = found
        return found

    by_item: dict[Sku, list[PlannedListing]] = {}
    for entry in bundled:
        for sku, _ in entry.components:
            by_item.setdefault(sku, []).append(entry)
    # Only items named in item_rules can differ from the channel defaults.
    items = {sku for _, sku in item_rules}
    settings = {}
    for sku in items:
        rules = tuple(
            item_rules.get((c.code, sku), d) for c, d in zip(channels, defaults, strict=True)
        )
        if any(r is not d for r, d in zip(rules, defaults, strict=True)):
            settings[sku] = settings_for(rules)
    return AllocationPlan(
        channels=tuple(channels),
        location_bits=bits,
        item_settings=settings,
        default_settings=settings_for(defaults),
        singles={sku: tuple(found) for sku, found in singles.items()},
        bundled=tuple(bundled),
        bundled_by_item={sku: tuple(found) for sku, found in by_item.items()},
        listings=tuple(planned),
    )


def _shown(units: int, limits: tuple[int, int, int, int, int]) -> int:
    buffer, numerator, denominator, maximum, floor = limits
    value = units - buffer
    if numerator >= 0 and value > 0:
        value = value * numerator // denominator
    if 0 <= maximum < value:
        value = maximum
    if value < floor:
        return 0
    return value if value > 0 else 0


def _step_two(
    plan: AllocationPlan,
    sku: Sku,
    available: Mapping[LocationCode, int],
    conflicts: list[RuleConflict],
) -> list[int]:
    settings = plan.item_settings.get(sku, plan.default_settings)
    bits = plan.location_bits
    if not settings.protected:  # each channel's pool: the sum over its locations
        pools = [0] * len(settings.masks)
        by_bit = settings.channels_by_bit
        for code, units in available.items():
            if units > 0 and (bit := bits.get(code)) is not None:
                for index in by_bit.get(bit, ()):
                    pools[index] += units
        return pools
    supply = ItemSupply((bits[code], units) for code, units in available.items() if code in bits)
    masks = settings.masks
    needs = [min(p, supply(m)) for p, m in zip(settings.protects, masks, strict=True)]
    levels = effective_levels(
        masks,
        needs,
        [channel.priority for channel in plan.channels],
        supply,
        names=[channel.code for channel in plan.channels],
        weights=settings.protects,
    )
    for channel, need, level in zip(plan.channels, needs, levels, strict=True):
        if level < need:
            conflicts.append(RuleConflict(sku, channel.code, need, level))
    return step_two_values(masks, levels, supply)


def _affected(
    plan: AllocationPlan, items: Iterable[Sku] | None
) -> tuple[list[Sku], list[PlannedListing]]:
    if items is None:
        return list(plan.singles), list(plan.bundled)
    wanted = list(dict.fromkeys(items))
    seen: dict[int, PlannedListing] = {}
    for sku in wanted:
        for entry in plan.bundled_by_item.get(sku, ()):
            seen.setdefault(id(entry), entry)
    return [sku for sku in wanted if sku in plan.singles], list(seen.values())


def compute_ats_values(
    plan: AllocationPlan,
    available: Mapping[Sku, Mapping[LocationCode, int]],
    *,
    items: Iterable[Sku] | None = None,
) -> AtsValues:
    """ATS numbers without explanations, sharing per-item work across channels and listings.

    Args:
        plan: the catalog and rules.
        available: available units per item and location (missing means 0).
        items: if given, only the listings whose ATS depends on these items (their own
            listings and the bundles containing them); otherwise every listing.

    Returns:
        ATS per (channel, listing id), and protection conflicts of the items computed.
    """
    singles, bundled = _affected(plan, items)
    conflicts: list[RuleConflict] = []
    values: dict[ListingKey, int] = {}
    step_two: dict[Sku, list[int]] = {}
    for sku in singles:
        units = step_two[sku] = _step_two(plan, sku, available.get(sku, _EMPTY), conflicts)
        for _, key, index, multiplier, _, rules in plan.singles[sku]:
            values[key] = _shown(units[index] // multiplier, rules.limits)
    for entry in bundled:
        index, least = entry.channel_index, -1
        for sku, quantity in entry.components:
            found = step_two.get(sku)
            if found is None:
                found = step_two[sku] = _step_two(plan, sku, available.get(sku, _EMPTY), conflicts)
            if least < 0 or found[index] // quantity < least:
                least = found[index] // quantity
        values[entry.key] = _shown(least // entry.multiplier, entry.rules.limits)
    return AtsValues(values, tuple(conflicts))
