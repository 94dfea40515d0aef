"""Use cases of sourcing: a channel's strategy, the zone distance table, and order lines.

`OrderDesk` gathers, inside one unit of work, what an order of one channel needs: the
compiled allocation plan, the channel's sourcing policy, and the resolution of the
channel's listings to their leaf items. `commit_takes` and `release_units` apply the
commitments that the domain decided, stock level by stock level in (SKU, location) order,
each with ONE conditional write that refuses to take `available` below zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from threading import Lock

from stockpool.domain.allocation import AllocationPlan
from stockpool.domain.catalog import require_code
from stockpool.domain.errors import InvalidInput, NotFound
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.ledger import StockDelta
from stockpool.domain.orders import OrderLine
from stockpool.domain.reservation import Takes, channel_index
from stockpool.domain.sourcing import (
    Site,
    SourcingPolicy,
    SourcingStrategy,
    ZoneDistances,
    require_distance,
    zone_pair,
)
from stockpool.services.allocation_plan import CompiledPlan
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork


class _SourcingConfig:
    """Each channel's strategy and the active locations as sites, read once per plan.

    Sourcing settings and locations are configuration: changing them bumps the version,
    which brings a new plan, so what was read for a plan stays true while it is in use.
    """

    def __init__(self) -> None:
        self._plan: CompiledPlan | None = None
        self._strategies: dict[ChannelCode, SourcingStrategy] = {}
        self._sites: dict[LocationCode, Site] = {}
        self._lock = Lock()

    def read(
        self, uow: UnitOfWork, compiled: CompiledPlan, channel: ChannelCode
    ) -> tuple[SourcingStrategy, dict[LocationCode, Site]]:
        with self._lock:
            if self._plan is not compiled:
                self._strategies = {}
                self._sites = {
                    loc.code: Site(loc.code, loc.priority, loc.zone)
                    for loc in uow.catalog.list_locations(include_archived=False)
                }
                self._plan = compiled
            strategy = self._strategies.get(channel)
            if strategy is None:
                strategy = SourcingStrategy(uow.channels.sourcing(channel))
                self._strategies[channel] = strategy
            return strategy, self._sites


_sourcing = _SourcingConfig()


@dataclass(frozen=True)
class OrderDesk:
    """What orders of one channel need, read once per unit of work."""

    channel: ChannelCode
    compiled: CompiledPlan
    index: int
    policy: SourcingPolicy

    @property
    def plan(self) -> AllocationPlan:
        """The allocation plan."""
        return self.compiled.plan

    def line(self, line_no: int, listing_id: ListingId, quantity: int) -> OrderLine:
        """A new line of this channel's listing, with its leaf items per listing unit."""
        key = (self.channel, listing_id)
        entry = self.compiled.planned.get(key)
        if entry is None:
            raise NotFound(f"channel {self.channel} has no listing {listing_id!r}")
        components = tuple(sorted((sku, q * entry.multiplier) for sku, q in entry.components))
        return OrderLine(line_no, listing_id, entry.listing.sku, components, quantity)


def open_desk(
    uow: UnitOfWork, app: Services, channel: ChannelCode, *, ship_to: str | None = None
) -> OrderDesk:
    """The order desk of a channel in `uow`."""
    compiled = app.plans.get(uow, app.clock())
    try:
        index = channel_index(compiled.plan, channel)
    except KeyError:
        uow.channels.get_channel(channel)  # NotFound for an unknown channel
        raise InvalidInput(f"channel {channel} is archived: it takes no orders") from None
    strategy, sites = _sourcing.read(uow, compiled, channel)
    distances = ZoneDistances()
    if strategy is SourcingStrategy.NEAREST_ZONE and ship_to is not None:
        distances = ZoneDistances(uow.orders.zone_distances())
    policy = SourcingPolicy(strategy, sites, distances, ship_to)
    return OrderDesk(channel, compiled, index, policy)


def commit_takes(
    uow: UnitOfWork, order_id: int, lines: Sequence[OrderLine], takes: Sequence[Takes]
) -> None:
    """Record the commitments of lines and add them to `committed`, level by level in key
    order (each write refuses to take available below zero: InsufficientStock)."""
    commit_many(uow, [(order_id, lines, takes)])


def commit_many(
    uow: UnitOfWork, orders: Sequence[tuple[int, Sequence[OrderLine], Sequence[Takes]]]
) -> None:
    """`commit_takes` for several orders, with one write per stock level for all of them."""
    totals: dict[tuple[Sku, LocationCode], int] = {}
    rows: list[tuple[int, int, Sku, LocationCode, int]] = []
    for order_id, lines, takes in orders:
        for line, got in zip(lines, takes, strict=True):
            for sku, places in got.items():
                for code, units in places.items():
                    if units:
                        rows.append((order_id, line.line_no, sku, code, units))
                        totals[(sku, code)] = totals.get((sku, code), 0) + units
    uow.orders.add_commitments(rows)
    uow.stock.commit_units([(sku, code, units) for (sku, code), units in sorted(totals.items())])


def release_units(
    uow: UnitOfWork,
    order_id: int,
    line_no: int,
    units: Mapping[Sku, Sequence[tuple[LocationCode, int]]],
) -> None:
    """Release committed units of a line back to available (key order)."""
    for sku, places in sorted(units.items()):
        for code, count in sorted(places):
            uow.orders.change_commitment(order_id, line_no, sku, code, committed=-count)
            uow.stock.apply(sku, code, StockDelta(committed=-count), expect_on_hand=None)


def set_zone_distance(app: Services, a: str, b: str, distance: int) -> tuple[str, str, int]:
    """Set the distance between two zones (the same both ways)."""
    first = require_code(a, what="zone")
    second = require_code(b, what="zone")
    if first == second:
        raise InvalidInput("the distance within a zone is always 0")
    units = require_distance(distance)
    with app.uow() as uow:
        uow.orders.set_zone_distance(zone_pair(first, second), units)
        uow.commit()
    return (*zone_pair(first, second), units)


def zone_distances(app: Services) -> list[tuple[str, str, int]]:
    """Every zone distance, by zones."""
    with app.uow() as uow:
        return sorted((a, b, d) for (a, b), d in uow.orders.zone_distances().items())
