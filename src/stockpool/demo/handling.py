"""What happens to the demo brand's stock besides selling and buying.

- **Returns**: customers send back a share of what they bought (more on our own shop than
  to wholesale buyers), 5 to 28 days later, to the location it left from. Most goes back on
  the shelf; a quarter arrives damaged and is kept apart as `damaged`.
- **Damage**: now and then a unit or two of a stocked level gets damaged in handling.
- **Write-offs**: every four weeks all damaged units are written off (thrown away).
- **Transfers**: every Wednesday the main warehouse replenishes the 3PL and the store when
  their stock (with what is already on its way) will not last until a week after the
  transfer arrives, up to three weeks of their demand, as far as the warehouse can spare
  units beyond two weeks of its own demand.

`Handling` keeps the stock that is not sellable (damaged, in transit) and records every
event for the ledger; the simulation (`history`) calls it day by day.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stockpool.demo.calendar import Bools, Floats, Ints
from stockpool.demo.layout import CHANNELS, LOCATION_INDEX

RETURN_RATE = {"shopify": 0.09, "amazon": 0.07, "amazon-fba": 0.08, "walmart": 0.06,
               "ebay": 0.05, "wholesale": 0.01}  # fmt: skip
DAMAGED_SHARE = 0.25
RETURN_DAYS = (5, 29)
HANDLING_DAMAGE = 0.0005  # chance a day that a stocked level (not channel-held) loses units
WRITE_OFF_DAYS = 28
TRANSFER_WEEKDAY = 2  # Wednesday
TRANSIT_DAYS = {"3PL": 5, "STORE": 1}
KEEP_DAYS = 14
COVER_DAYS = 21

# A day's sales of one listing group in one zone from one location: day, group, zone,
# location, members (listings of the group) and listing units of each.
Sale = tuple[int, int, int, int, Ints, Ints]
# (item, units of it) of member `member` of listing group `group`.
Parts = Callable[[int, int], list[tuple[int, int]]]
# Expected demand over the next `days` days, per item and location.
Expected = Callable[[int], Floats]


@dataclass(frozen=True)
class Return:
    """Listing units of one sale record that come back on `day`, `damaged` of them damaged."""

    day: int
    record: int
    group: int
    member: int
    location: int
    quantity: int
    damaged: int


@dataclass(frozen=True)
class LevelEvent:
    """Units of items at locations on `day`: damaged in handling, or written off."""

    day: int
    items: Ints
    locations: Ints
    quantities: Ints


@dataclass(frozen=True)
class Transfer:
    """A transfer from `source` to `destination`, shipped, expected and arriving on days."""

    source: int
    destination: int
    shipped: int
    expected: int
    arrives: int
    items: Ints
    quantities: Ints


@dataclass
class Handling:
    """Returns, damage, write-offs and transfers of the simulation, and the stock they hold.

    Attributes:
        damaged: [item, location] damaged units on hand.
        in_transit: [item, location] units on their way to the location.
        returns, damage, write_offs, transfers: every event, in the order it happened
            (returns and transfers when they were sent off; a return due after the
            history's end never happened).
    """

    rng: np.random.Generator
    days: int
    damaged: Ints
    in_transit: Ints
    returns: list[Return] = field(default_factory=list)
    damage: list[LevelEvent] = field(default_factory=list)
    write_offs: list[LevelEvent] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    _due: dict[int, list[Return]] = field(default_factory=dict)
    _arrivals: dict[int, list[Transfer]] = field(default_factory=dict)

    @classmethod
    def empty(cls, rng: np.random.Generator, days: int, shape: tuple[int, int]) -> Handling:
        """Nothing damaged or in transit yet."""
        return cls(rng, days, np.zeros(shape, np.int64), np.zeros(shape, np.int64))

    def send_back(self, day: int, sales: list[Sale], *, first: int, channel_of: list[int]) -> None:
        """Decide which of a day's sale records (numbered from `first`) come back, and when
        (`channel_of` is the channel of each listing group)."""
        if not sales:
            return
        sold = np.concatenate([row[5] for row in sales])
        rate = np.concatenate(
            [np.full(len(row[5]), RETURN_RATE[CHANNELS[channel_of[row[1]]].code]) for row in sales]
        )
        back = self.rng.binomial(sold, rate)
        where = np.cumsum([0] + [len(row[5]) for row in sales])
        for n in np.nonzero(back)[0].tolist():
            entry = int(np.searchsorted(where, n, side="right")) - 1
            _, group, _, location, members, _ = sales[entry]
            when = day + int(self.rng.integers(*RETURN_DAYS))
            hurt = int(self.rng.binomial(int(back[n]), DAMAGED_SHARE))
            member = int(members[n - where[entry]])
            found = Return(when, first + n, group, member, location, int(back[n]), hurt)
            if when < self.days:
                self._due.setdefault(when, []).append(found)

    def receive_returns(self, day: int, stock: Ints, parts: Parts) -> None:
        """Returns that arrive today: back on the shelf, or kept apart as damaged."""
        for found in self._due.pop(day, []):
            for item, per in parts(found.group, found.member):
                stock[item, found.location] += (found.quantity - found.damaged) * per
                self.damaged[item, found.location] += found.damaged * per
            self.returns.append(found)

    def damage_in_handling(self, day: int, stock: Ints) -> None:
        """A unit or two of a few stocked levels gets damaged today."""
        hit = (self.rng.random(stock.shape) < HANDLING_DAMAGE) & (stock > 0)
        hit[:, LOCATION_INDEX["FBA"]] = False  # channel-held: Amazon's own business
        items, locations = np.nonzero(hit)
        if not items.size:
            return
        wanted = 1 + (self.rng.random(items.size) < 0.3).astype(np.int64)
        quantities = np.minimum(wanted, stock[items, locations])
        stock[items, locations] -= quantities
        self.damaged[items, locations] += quantities
        self.damage.append(LevelEvent(day, items, locations, quantities))

    def write_off(self, day: int) -> None:
        """Every four weeks, every damaged unit is written off."""
        if day % WRITE_OFF_DAYS != WRITE_OFF_DAYS - 1:
            return
        items, locations = np.nonzero(self.damaged)
        if items.size:
            quantities = self.damaged[items, locations].copy()
            self.damaged[items, locations] = 0
            self.write_offs.append(LevelEvent(day, items, locations, quantities))

    def ship_transfers(self, day: int, stock: Ints, stocked: Bools, expected: Expected) -> None:
        """The weekly replenishment of the 3PL and the store from the main warehouse."""
        source = LOCATION_INDEX["WH"]
        spare = stock[:, source] - np.ceil(expected(KEEP_DAYS)[:, source]).astype(np.int64)
        for code, transit in TRANSIT_DAYS.items():
            target = LOCATION_INDEX[code]
            position = stock[:, target] + self.in_transit[:, target]
            short = position < expected(transit + 7)[:, target]
            wanted = np.ceil(expected(transit + COVER_DAYS)[:, target] - position)
            send = np.where(stocked[:, target] & short, np.minimum(wanted, spare), 0)
            items = np.nonzero(send >= 1)[0]
            if not items.size:
                continue
            quantities = send[items].astype(np.int64)
            stock[items, source] -= quantities
            spare[items] -= quantities
            self.in_transit[items, target] += quantities
            arrives = day + transit + int(self.rng.random() < 0.15)
            sent = Transfer(source, target, day, day + transit, arrives, items, quantities)
            self.transfers.append(sent)
            self._arrivals.setdefault(arrives, []).append(sent)

    def receive_transfers(self, day: int, stock: Ints) -> None:
        """Transfers that arrive today go on the destination's shelf."""
        for sent in self._arrivals.pop(day, []):
            stock[sent.items, sent.destination] += sent.quantities
            self.in_transit[sent.items, sent.destination] -= sent.quantities
