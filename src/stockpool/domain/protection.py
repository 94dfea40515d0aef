"""Protections of channels over shared stock, computed exactly as a flow problem.

A channel's protection is a level of one item that the other channels may never take from it.
It can only be served from the channel's own eligible locations, and several channels share
locations, so "what the others need" is a transportation problem: channels on one side,
locations on the other, an edge where a channel may draw from a location.

Two questions are answered here, per item:

1. **Effective protections.** Each protected channel needs at most its protection and at
   most what its own locations hold. When the needs cannot all be met at once, units are
   handed out one at a time in a fixed order, and a unit is kept only if all kept units
   stay satisfiable together: by channel priority (lower number first), and within equal
   priorities by the Sainte-Laguë (Webster) quotient `protection / (units held + 1/2)`,
   highest first, ties to the first channel name. The result is always jointly
   satisfiable, and no channel could get a unit more without another one, of higher or
   equal priority, getting less.

   Why a divisor method: sharing "in proportion" by largest remainders suffers the Alabama
   paradox (one more unit of stock can take a unit of protection away from a channel, and
   with it stock from the others' ATS). A divisor method hands out units in an order that
   depends only on the protections as set, never on the stock. Units of one channel are
   interchangeable and the satisfiable sets of units form a transversal matroid, so keeping
   each unit that still fits is the matroid greedy along that order. One more unit of stock
   at a location turns the matroid for less stock into an elementary quotient of the one for
   more stock (contract the extra unit), and along a fixed order a quotient keeps a subset of
   the units: every effective protection stays or grows, and at most one grows by one.
   What a channel may take (below) then never drops either: it is the rank of the others'
   kept units plus all of the channel's own, minus the others' kept units; that rank only
   grows with stock, and a unit newly kept for another channel is one the extra stock unit
   alone made room for, so it raises the rank exactly as much. This needs an order that
   ignores the stock, so the weights are the protections as set, not the capped needs.
   Sainte-Laguë rather than D'Hondt because it favours neither large nor small protections:
   for 7, 7 and 3 over 3 units it gives 1, 1, 1 where D'Hondt gives 2, 1, 0.
2. **What a channel may take.** For channel `c` this is the largest flow `c` can draw from its
   own locations while every other channel still receives its effective protection. With
   `c` unbounded, a maximum flow that saturates the others exists (augmenting from the
   source never unsaturates a source edge), so the answer is the min-cut
   `min over sets A of other protected channels: avail(E_c | N(A)) - protected(A)`.

Location sets are bitmasks; the graphs are tiny (channels x locations), so cut enumeration
over the protected channels is exact and fast, with a small max-flow behind it for the rare
item protected on many channels at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from stockpool.domain.ids import ChannelCode, LocationCode

# Above this many protected channels, cut enumeration (2**k sets) gives way to max-flow.
CUT_ENUMERATION_LIMIT = 10


class ItemSupply:
    """Available units of one item per location bit, summed over location masks on demand."""

    __slots__ = ("_memo", "_units")

    def __init__(self, units_by_bit: Iterable[tuple[int, int]]) -> None:
        self._units = tuple((bit, units) for bit, units in units_by_bit if units > 0)
        self._memo: dict[int, int] = {}

    def __call__(self, mask: int) -> int:
        """Units available over the locations in `mask`."""
        total = self._memo.get(mask)
        if total is None:
            total = sum(units for bit, units in self._units if bit & mask)
            self._memo[mask] = total
        return total


def location_bits(locations: Iterable[LocationCode]) -> dict[LocationCode, int]:
    """Give each location its own bit, in sorted order of codes."""
    return {code: 1 << index for index, code in enumerate(sorted(set(locations)))}


def mask_of(locations: Iterable[LocationCode], bits: Mapping[LocationCode, int]) -> int:
    """The bitmask of `locations`; locations without a bit are ignored."""
    mask = 0
    for code in locations:
        mask |= bits.get(code, 0)
    return mask


def max_flow(
    demands: Sequence[int], neighbours: Sequence[Sequence[int]], supplies: Sequence[int]
) -> int:
    """Maximum flow from channels (with demands) to locations (with supplies).

    Args:
        demands: units each channel asks for.
        neighbours: for each channel, the indices of the locations it may draw from.
        supplies: units each location holds.

    Returns:
        The largest number of units that can be delivered in total.
    """
    flow = [dict.fromkeys(near, 0) for near in neighbours]
    users: list[list[int]] = [[] for _ in supplies]
    for channel, near in enumerate(neighbours):
        for location in near:
            users[location].append(channel)
    left, room = list(demands), list(supplies)
    total = 0
    while True:
        path = _augmenting_path(left, room, neighbours, users, flow)
        if path is None:
            return total
        end, via_location, via_channel = path
        total += _augment(end, via_location, via_channel, left, room, flow)


def _augmenting_path(
    left: list[int],
    room: list[int],
    neighbours: Sequence[Sequence[int]],
    users: list[list[int]],
    flow: list[dict[int, int]],
) -> tuple[int, list[int], list[int]] | None:
    via_location = [-1] * len(room)  # channel that reached each location
    via_channel = [-1] * len(left)  # location that reached each channel, -2 from the source
    queue = deque(channel for channel, need in enumerate(left) if need > 0)
    for channel in queue:
        via_channel[channel] = -2
    while queue:
        channel = queue.popleft()
        for location in neighbours[channel]:
            if via_location[location] != -1:
                continue
            via_location[location] = channel
            if room[location] > 0:
                return location, via_location, via_channel
            for other in users[location]:
                if via_channel[other] == -1 and flow[other][location] > 0:
                    via_channel[other] = location
                    queue.append(other)
    return None


def _augment(
    end: int,
    via_location: list[int],
    via_channel: list[int],
    left: list[int],
    room: list[int],
    flow: list[dict[int, int]],
) -> int:
    amount, location = room[end], end
    channel = via_location[location]
    while via_channel[channel] != -2:
        back = via_channel[channel]
        amount = min(amount, flow[channel][back])
        channel = via_location[back]
    amount = min(amount, left[channel])
    room[end] -= amount
    location, channel = end, via_location[end]
    while True:
        flow[channel][location] += amount
        back = via_channel[channel]
        if back == -2:
            left[channel] -= amount
            return amount
        flow[channel][back] -= amount
        location, channel = back, via_location[back]


def flow_on_masks(demands: Sequence[int], masks: Sequence[int], supply: ItemSupply) -> int:
    """`max_flow` for channels whose eligible locations are bitmasks."""
    union = 0
    for mask in masks:
        union |= mask
    bits = [1 << index for index in range(union.bit_length()) if union >> index & 1]
    index_of = {bit: index for index, bit in enumerate(bits)}
    neighbours = [[index_of[bit] for bit in bits if bit & mask] for mask in masks]
    return max_flow(demands, neighbours, [supply(bit) for bit in bits])


def is_satisfiable(masks: Sequence[int], demands: Sequence[int], supply: ItemSupply) -> bool:
    """Whether every channel can receive its demand at once from its own locations.

    Hall's condition over the demanding channels: no set of them asks for more than their
    locations hold together.
    """
    picked = [(mask, demand) for mask, demand in zip(masks, demands, strict=True) if demand > 0]
    if len(picked) > CUT_ENUMERATION_LIMIT:
        wanted = [demand for _, demand in picked]
        return flow_on_masks(wanted, [mask for mask, _ in picked], supply) == sum(wanted)
    unions, sums = [0], [0]
    for mask, demand in picked:
        for index in range(len(unions)):
            union, total = unions[index] | mask, sums[index] + demand
            if total > supply(union):
                return False
            unions.append(union)
            sums.append(total)
    return True


def effective_levels(
    masks: Sequence[int],
    needs: Sequence[int],
    priorities: Sequence[int],
    supply: ItemSupply,
    *,
    names: Sequence[str],
    weights: Sequence[int] | None = None,
) -> list[int]:
    """Effective protections: the needs, cut back by priority when they cannot all be met.

    Args:
        masks: each channel's eligible locations.
        needs: each channel's need, already capped at what its own locations hold.
        priorities: lower is served first.
        supply: the item's available units.
        names: channel names; between equal quotients the first name gets the unit.
        weights: what equal priorities share in proportion to: the protections as set
            (at least the needs); the needs themselves if not given. More stock never
            lowers a level only when the weights do not depend on stock, so callers pass
            the protections.

    Returns:
        One effective protection per channel, jointly satisfiable.
    """
    if is_satisfiable(masks, needs, supply):
        return list(needs)
    # A weight below 1 (only if set below the need) would never get a unit: count it as 1.
    shares = [max(share, 1) for share in (needs if weights is None else weights)]
    levels = [0] * len(needs)
    for priority in sorted({p for p, need in zip(priorities, needs, strict=True) if need > 0}):
        group = [i for i, need in enumerate(needs) if need > 0 and priorities[i] == priority]
        trial = list(levels)
        for i in group:
            trial[i] = needs[i]
        if is_satisfiable(masks, trial, supply):
            levels = trial
        else:
            _fill_group(levels, group, (needs, shares, names), masks, supply)
    return levels


def _seats(weight: int, step: int, scale: int) -> int:
    """Units whose Sainte-Laguë quotient `weight / (k + 1/2)` is at least `scale / step`."""
    return (2 * weight * step + scale) // (2 * scale)


def _fill_group(
    levels: list[int],
    group: list[int],
    claims: tuple[Sequence[int], Sequence[int], Sequence[str]],
    masks: Sequence[int],
    supply: ItemSupply,
) -> None:
    """Sainte-Laguë filling of one priority group, in place (see the module docstring).

    The units of the group are handed out in quotient order, and a channel whose next unit
    does not fit is dropped for good (the others only grow). Rather than testing each unit,
    the levels at step `s` give every unit of quotient at least `scale / s`: a prefix of the
    order, so the largest satisfiable step is found by bisection, and only the units of the
    next step (at most one per channel, as `scale` is the largest weight) are tried one by one.
    """
    needs, weights, names = claims
    scale = max(weights[i] for i in group)
    step, stuck = 0, set()
    while True:
        active = [i for i in group if i not in stuck and levels[i] < needs[i]]
        if not active:
            return
        # The first step at which every active channel would be at its need.
        top = max(-(-scale * (2 * needs[i] - 1) // (2 * weights[i])) for i in active)

        def at_step(step: int, active: list[int] = active) -> list[int]:
            trial = list(levels)
            for i in active:
                trial[i] = min(needs[i], _seats(weights[i], step, scale))
            return trial

        step = _largest_step(at_step, masks, supply, low=step, high=top)
        levels[:] = at_step(step)
        step += 1
        arrivals = [i for i in active if levels[i] < min(needs[i], _seats(weights[i], step, scale))]
        if len(arrivals) > 1:
            arrivals.sort(key=lambda i: (-Fraction(weights[i], 2 * levels[i] + 1), names[i], i))
        for i in arrivals:
            levels[i] += 1
            if not is_satisfiable(masks, levels, supply):
                levels[i] -= 1
                stuck.add(i)


def _largest_step(
    at_step: Callable[[int], list[int]],
    masks: Sequence[int],
    supply: ItemSupply,
    *,
    low: int,
    high: int,
) -> int:
    """The largest step in [low, high] at which the levels are satisfiable (low always is)."""
    while low < high:
        middle = (low + high + 1) // 2
        if is_satisfiable(masks, at_step(middle), supply):
            low = middle
        else:
            high = middle - 1
    return low


def step_two_values(masks: Sequence[int], levels: Sequence[int], supply: ItemSupply) -> list[int]:
    """For each channel, the units it may take while all others keep their protections.

    Args:
        masks: each channel's eligible locations.
        levels: effective protections, jointly satisfiable.
        supply: the item's available units.

    Returns:
        One value per channel, between 0 and the channel's pool.
    """
    protected = [i for i, level in enumerate(levels) if level > 0]
    if not protected:
        return [supply(mask) for mask in masks]
    if len(protected) > CUT_ENUMERATION_LIMIT:
        return [_step_two_by_flow(c, masks, levels, supply) for c in range(len(masks))]
    unions, sums = [0], [0]
    for i in protected:
        unions += [union | masks[i] for union in unions]
        sums += [total + levels[i] for total in sums]
    values = []
    for c, mask in enumerate(masks):
        skip = 1 << protected.index(c) if c in protected else 0
        best = supply(mask)
        for subset in range(1, len(unions)):
            if best == 0:
                break
            if not subset & skip:
                best = min(best, supply(mask | unions[subset]) - sums[subset])
        values.append(best)
    return values


def _step_two_by_flow(
    c: int, masks: Sequence[int], levels: Sequence[int], supply: ItemSupply
) -> int:
    demands = list(levels)
    demands[c] = supply(masks[c])
    others = sum(levels) - levels[c]
    return flow_on_masks(demands, masks, supply) - others


@dataclass(frozen=True, slots=True)
class ProtectionClaim:
    """A channel's protection of one item, as resolved for now."""

    channel: ChannelCode
    priority: int
    protect: int
    eligible_locations: frozenset[LocationCode]


@dataclass(frozen=True, slots=True)
class EffectiveProtection:
    """What a protection needs (capped at the channel's own locations) and what it gets."""

    channel: ChannelCode
    requested: int
    effective: int


def effective_protections(
    claims: Sequence[ProtectionClaim], available: Mapping[LocationCode, int]
) -> tuple[EffectiveProtection, ...]:
    """Effective protections of one item, in the order of `claims`.

    Args:
        claims: each channel's protection, priority and eligible locations.
        available: the item's available units per location.

    Returns:
        Per claim, its need (`min(protect, own locations)`) and its effective level.
    """
    bits = location_bits(available)
    supply = ItemSupply((bits[code], units) for code, units in available.items())
    masks = [mask_of(claim.eligible_locations, bits) for claim in claims]
    needs = [min(claim.protect, supply(mask)) for claim, mask in zip(claims, masks, strict=True)]
    levels = effective_levels(
        masks,
        needs,
        [claim.priority for claim in claims],
        supply,
        names=[claim.channel for claim in claims],
        weights=[claim.protect for claim in claims],
    )
    return tuple(
        EffectiveProtection(claim.channel, need, level)
        for claim, need, level in zip(claims, needs, levels, strict=True)
    )
