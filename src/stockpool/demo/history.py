"""Day-by-day simulation of the demo brand: selling, running out, and buying more.

Every day, each channel's customers ask for its listings (Poisson demand at the day's
seasonal rate, per ship-to zone); each request is served from the zone's nearest location
that has the stock. What cannot be served is lost: a day without stock records no sale,
as in real life. Every Monday the planner reviews each stocked item and location and orders
from the supplier up to a target, with a forecast that is a little wrong and suppliers who
are sometimes late, so that stockouts happen for real. Returns, damage, write-offs and
the weekly transfers from the main warehouse to the 3PL and the store are `handling`'s.
The result is a list of sales (by day, listing, location and quantity), of purchase orders
and of those events, from which `ledger` makes ledger records.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from stockpool.demo.brand import Catalog
from stockpool.demo.calendar import Bools, Floats, Ints, Seasons
from stockpool.demo.handling import TRANSFER_WEEKDAY, Handling, Sale
from stockpool.demo.layout import CHANNELS, LOCATION_INDEX, LOCATIONS, SUPPLIER_INDEX, SUPPLIERS

REVIEW_DAYS = 7
LOOKAHEAD_DAYS = 200  # the seasons must reach this far beyond the history (lead + cover)


@dataclass
class Group:
    """Listings of one channel sold the same way: member k is listing `rows[k]`.

    Single-item groups (every member one item, each item once) are served in one vector
    operation per location; bundle groups member by member.
    """

    channel: int
    rows: list[int]
    components: list[list[tuple[int, int]]]
    rates: Floats
    bundle: bool
    items: Ints = field(init=False)
    units: Ints = field(init=False)

    def __post_init__(self) -> None:
        self.items = np.array([c[0][0] for c in self.components], dtype=np.int64)
        self.units = np.array([c[0][1] for c in self.components], dtype=np.int64)


@dataclass(frozen=True)
class PurchaseOrder:
    """One simulated purchase order: opened on `opened`, arrives on `arrives`."""

    supplier: int
    location: int
    opened: int
    expected: int
    arrives: int
    items: Ints
    quantities: Ints


@dataclass
class History:
    """What the simulation produced.

    Attributes:
        groups: the listing groups that sold.
        opening: [item, location] units on the shelf on day 0.
        sales: columns day, group, zone, location, member, quantity (listing units).
        purchase_orders: every order placed, received or still open.
        stock: [item, location] available at the end.
        lost_units: per day, units asked for that no location could serve.
        empty_levels: per day, stocked (item, location) pairs with nothing on the shelf.
        handling: returns, damage, write-offs and transfers (sale records of returns are
            rows of `sales`).
    """

    groups: list[Group]
    opening: Ints
    sales: dict[str, Ints]
    purchase_orders: list[PurchaseOrder]
    stock: Ints
    lost_units: Ints
    empty_levels: Ints
    handling: Handling


def _item_groups(catalog: Catalog, fba_items: set[int]) -> list[Group]:
    groups: list[Group] = []
    rates = np.array(catalog.rates)
    for c, spec in enumerate(CHANNELS):
        by_units: dict[tuple[bool, int], list[int]] = {}
        for row, (_, _, target, units) in enumerate(catalog.listings[spec.code]):
            by_units.setdefault((isinstance(target, str), units), []).append(row)
        for (is_bundle, units), rows in sorted(by_units.items()):
            listings = [catalog.listings[spec.code][r] for r in rows]
            if is_bundle:
                parts = [_bundle_parts(catalog, str(x[2])) for x in listings]
                rate = [0.2 * min(rates[i] for i, _ in p) * spec.share for p in parts]
            else:
                parts = [[(int(x[2]), units)] for x in listings]
                share = [_share(spec.code, int(x[2]), fba_items) for x in listings]
                pack = 1.0 if units == spec.pack else 0.5
                rate = [
                    rates[int(x[2])] * s * pack / units
                    for x, s in zip(listings, share, strict=True)
                ]
            groups.append(Group(c, rows, parts, np.array(rate), is_bundle))
    return groups


def _share(channel: str, item: int, fba_items: set[int]) -> float:
    spec = CHANNELS[[c.code for c in CHANNELS].index(channel)]
    if channel == "amazon" and item not in fba_items:
        return spec.share + CHANNELS[[c.code for c in CHANNELS].index("amazon-fba")].share
    return spec.share


def _bundle_parts(catalog: Catalog, sku: str) -> list[tuple[int, int]]:
    return next(parts for bundle, _, parts in catalog.bundles if bundle == sku)


def stocked_levels(catalog: Catalog) -> Bools:
    """Which locations keep each item: all at the warehouse, the best sellers elsewhere."""
    count = len(catalog.skus)
    rates = np.array(catalog.rates)
    rank = np.empty(count, dtype=np.int64)
    rank[np.argsort(-rates, kind="stable")] = np.arange(count)
    stocked = np.zeros((count, len(LOCATIONS)), dtype=bool)
    stocked[:, LOCATION_INDEX["WH"]] = True
    stocked[:, LOCATION_INDEX["3PL"]] = rank < count * 0.4
    apparel = np.array(["apparel" in t for t in catalog.tags])
    stocked[:, LOCATION_INDEX["STORE"]] = apparel & (rank < count * 0.35)
    fba_rows = catalog.listings["amazon-fba"]
    stocked[[int(x[2]) for x in fba_rows], LOCATION_INDEX["FBA"]] = True
    return stocked


class Simulation:
    """The state of the brand while the days go by."""

    def __init__(
        self, catalog: Catalog, seasons: Seasons, rng: np.random.Generator, days: int
    ) -> None:
        self.rng = rng
        self.days = days
        self.stocked = stocked_levels(catalog)
        fba = {int(x[2]) for x in catalog.listings["amazon-fba"]}
        self.groups = _item_groups(catalog, fba)
        count = len(catalog.skus)
        self.channel_m = seasons.channel
        self.item_m = np.ones((count, seasons.channel.shape[1]))
        for index, code in enumerate(catalog.category):
            if code in seasons.category:
                self.item_m[index] = seasons.category[code]
        self.lead = np.array(
            [SUPPLIERS[SUPPLIER_INDEX[s]].lead_time_days for s in catalog.suppliers]
        )
        self.supplier = np.array([SUPPLIER_INDEX[s] for s in catalog.suppliers])
        self.case = np.array(catalog.case_packs, dtype=np.int64)
        self.cover = np.where(np.array(catalog.rates) > 0.3, 28, 56)
        self.rate = self._planning_rates(count)
        self.safety = np.clip(rng.normal(0.9, 0.9, size=count), -0.8, 2.5)
        self.cum = np.concatenate(
            [np.zeros((count, 1)), np.cumsum(self.item_m * self.channel_m.mean(axis=0), axis=1)],
            axis=1,
        )
        self.stock = np.zeros((count, len(LOCATIONS)), dtype=np.int64)
        self.on_order = np.zeros_like(self.stock)
        self.arrivals: dict[int, list[PurchaseOrder]] = {}
        self.orders: list[PurchaseOrder] = []
        self.sales: list[Sale] = []
        self.records = 0
        self.lost = np.zeros(days, dtype=np.int64)
        self.empty = np.zeros(days, dtype=np.int64)
        self.handling = Handling.empty(rng, days, self.stock.shape)

    def _planning_rates(self, count: int) -> Floats:
        """Expected item units a day at each location, as the (imperfect) planner sees it."""
        rate = np.zeros((count, len(LOCATIONS)))
        for group in self.groups:
            for _, share, order in CHANNELS[group.channel].zones:
                home = np.full(len(group.items), -1)
                for code in order:
                    loc = LOCATION_INDEX[code]
                    home[(home < 0) & self.stocked[group.items, loc]] = loc
                ok = home >= 0
                np.add.at(
                    rate,
                    (group.items[ok], home[ok]),
                    group.rates[ok] * share * group.units[ok] * (3 if group.bundle else 1),
                )
        noise = self.rng.lognormal(0.0, 0.3, size=rate.shape)
        return np.asarray(np.where(self.stocked, np.maximum(rate, 0.01) * noise, 0.0))

    def expected(self, day: int, days: int) -> Floats:
        """Expected item units at each location over `days` days from `day`, as planned."""
        length = np.full(self.rate.shape[0], days)
        return np.asarray(self._window(day, length)[:, None] * self.rate)

    def _window(self, day: int, length: Ints) -> Floats:
        end = np.minimum(day + length, self.cum.shape[1] - 1)
        return np.asarray(self.cum[np.arange(len(length)), end] - self.cum[:, day])

    def _targets(self, day: int) -> tuple[Floats, Floats]:
        """Reorder point and order-up-to level of every level, for a review on `day`."""
        horizon = self._window(day, self.lead + REVIEW_DAYS)[:, None] * self.rate
        cover = self._window(day, self.lead + REVIEW_DAYS + self.cover)[:, None] * self.rate
        point = horizon + self.safety[:, None] * np.sqrt(horizon)
        return point, np.maximum(cover, point)

    def open(self) -> Ints:
        """Put the opening stock on the shelves."""
        _, target = self._targets(0)
        self.stock = np.where(self.stocked, np.ceil(target * 0.8), 0).astype(np.int64)
        return self.stock.copy()

    def review(self, day: int) -> None:
        """The weekly purchase order run."""
        point, target = self._targets(day)
        position = self.stock + self.on_order + self.handling.in_transit
        wanted = np.where(self.stocked & (position < point), np.ceil(target - position), 0)
        packs = np.ceil(wanted / self.case[:, None]).astype(np.int64)
        quantity = packs * self.case[:, None]
        for supplier in range(len(SUPPLIERS)):
            mine = self.supplier == supplier
            for loc in range(len(LOCATIONS)):
                items = np.nonzero(mine & (quantity[:, loc] > 0))[0]
                if items.size:
                    self._place(supplier, loc, day, items, quantity[items, loc])

    def _place(self, supplier: int, loc: int, day: int, items: Ints, quantities: Ints) -> None:
        quoted = SUPPLIERS[supplier].lead_time_days
        late = int(self.rng.integers(5, 25)) if self.rng.random() < 0.1 else 0
        lead = max(2, round(quoted * float(self.rng.lognormal(0.0, 0.15)))) + late
        po = PurchaseOrder(supplier, loc, day, day + quoted, day + lead, items, quantities)
        self.orders.append(po)
        self.on_order[items, loc] += quantities
        self.arrivals.setdefault(day + lead, []).append(po)

    def receive(self, day: int) -> None:
        """Purchase orders, transfers and returns that arrive today."""
        for po in self.arrivals.pop(day, []):
            self.stock[po.items, po.location] += po.quantities
            self.on_order[po.items, po.location] -= po.quantities
        self.handling.receive_transfers(day, self.stock)
        self.handling.receive_returns(day, self.stock, self.parts)

    def parts(self, group: int, member: int) -> list[tuple[int, int]]:
        """(item, units) of one listing of a group."""
        return self.groups[group].components[member]

    def run_day(self, day: int, weekday: int) -> None:
        """The day after receiving: on Wednesdays the transfers leave first thing; then the
        day's selling, and what it brings: returns to come, damage, write-offs."""
        if weekday == TRANSFER_WEEKDAY:
            expected = self.expected
            self.handling.ship_transfers(
                day, self.stock, self.stocked, lambda days: expected(day, days)
            )
        first = len(self.sales)
        self.sell(day)
        channel_of = [g.channel for g in self.groups]
        new = self.sales[first:]
        self.handling.send_back(day, new, first=self.records, channel_of=channel_of)
        self.records += sum(len(row[4]) for row in new)
        self.handling.damage_in_handling(day, self.stock)
        self.handling.write_off(day)

    def sell(self, day: int) -> None:
        """Serve the day's demand of every group; what no location can serve is lost."""
        for g, group in enumerate(self.groups):
            lam = group.rates * self.channel_m[group.channel, day]
            lam = lam * self.item_m[group.items, day]
            for z, (_, share, order) in enumerate(CHANNELS[group.channel].zones):
                asked = self.rng.poisson(lam * share)
                if not asked.any():
                    continue
                serve = self._serve_bundles if group.bundle else self._serve_items
                left = serve(day, g, z, [LOCATION_INDEX[c] for c in order], asked)
                self.lost[day] += int(left.sum())
        self.empty[day] = int((self.stocked & (self.stock == 0)).sum())

    def _serve_items(self, day: int, g: int, z: int, order: list[int], asked: Ints) -> Ints:
        group = self.groups[g]
        for loc in order:
            take = np.minimum(asked, self.stock[group.items, loc] // group.units)
            members = np.nonzero(take)[0]
            if members.size:
                self.stock[group.items[members], loc] -= take[members] * group.units[members]
                self.sales.append((day, g, z, loc, members, take[members]))
                asked = asked - take
        return asked * group.units

    def _serve_bundles(self, day: int, g: int, z: int, order: list[int], asked: Ints) -> Ints:
        group = self.groups[g]
        left = asked.copy()
        for member in np.nonzero(asked)[0]:
            parts = group.components[member]
            items = np.array([i for i, _ in parts])
            per = np.array([q for _, q in parts])
            for loc in order:
                take = min(int(left[member]), int((self.stock[items, loc] // per).min()))
                if take:
                    self.stock[items, loc] -= take * per
                    self.sales.append((day, g, z, loc, np.array([member]), np.array([take])))
                    left[member] -= take
        return left


def simulate(catalog: Catalog, seasons: Seasons, rng: np.random.Generator, days: int) -> History:
    """Run the brand for `days` days (the seasons must cover LOOKAHEAD_DAYS more)."""
    sim = Simulation(catalog, seasons, rng, days)
    opening = sim.open()
    weekday = seasons.start.weekday()
    for day in range(days):
        sim.receive(day)
        if (weekday + day) % 7 == 0:
            sim.review(day)
        sim.run_day(day, (weekday + day) % 7)
    columns = ("day", "group", "zone", "location", "member", "quantity")
    sales: dict[str, Ints] = {}
    for n, name in enumerate(columns):
        parts = [np.full(len(row[4]), row[n]) if n < 4 else np.asarray(row[n]) for row in sim.sales]
        sales[name] = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return History(
        sim.groups, opening, sales, sim.orders, sim.stock, sim.lost, sim.empty, sim.handling
    )
