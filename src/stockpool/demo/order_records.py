"""The simulated sales as channel orders, with their shipments and returns.

Each sale record of the simulation becomes one or more orders of one line (a wholesale
order takes all its case packs at once). An order shipped before `now` has its shipment
movements and a released commitment; a later one is still open and holds its units as
`committed`. A record's returned units are spread over its first orders: each such order's
line and commitments count them as `returned`, with a `return` movement back at the
location they left from, and for damaged units a second `return` movement and a status
change into `damaged` (as `stockpool orders return --damaged` records them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection

from stockpool.demo.brand import Catalog
from stockpool.demo.calendar import Bools, Ints
from stockpool.demo.history import History
from stockpool.demo.layout import CHANNELS, LOCATIONS
from stockpool.demo.ledger import DAY, Keys, Ledger, external_id
from stockpool.demo.writer import copy_rows, next_id, reset_sequence, stamps
from stockpool.store.order_tables import order_lines, orders

_RESERVED = ("shopify", "wholesale")  # our own checkout and B2B portal; the rest ingest
_ORDER_COLUMNS = ("id", "channel_id", "external_id", "kind", "status", "ship_to_zone",
                  "channel_updated_at", "created_at", "updated_at")  # fmt: skip
_LINE_COLUMNS = ("id", "order_id", "line_no", "listing_id", "sku", "components", "quantity",
                 "shipped", "cancelled", "returned")  # fmt: skip
_COMMITMENT_COLUMNS = ("line_id", "item_id", "location_id", "committed", "shipped",
                       "returned")  # fmt: skip


def _split(history: History, rng: np.random.Generator) -> tuple[Ints, Ints]:
    """Each sale record as orders: (record of each order, listing units of each order)."""
    quantity = history.sales["quantity"]
    channel = np.array([history.groups[g].channel for g in history.sales["group"].tolist()])
    wholesale = channel == [c.code for c in CHANNELS].index("wholesale")
    count = np.floor(quantity / 1.15 + rng.random(len(quantity))).astype(np.int64)
    count = np.where(wholesale, 1, np.clip(count, 1, quantity))
    record = np.repeat(np.arange(len(quantity)), count)
    offsets = np.repeat(np.cumsum(count) - count, count)
    position = np.arange(len(record)) - offsets
    size = quantity[record] // count[record] + (position < quantity[record] % count[record])
    return record, size


def _returns_per_order(history: History, record: Ints, size: Ints) -> tuple[Ints, Ints, Ints]:
    """(units returned, units of them damaged, day of the return) of each order."""
    records = len(history.sales["quantity"])
    back, hurt, when = (np.zeros(records, np.int64) for _ in range(3))
    for found in history.handling.returns:
        back[found.record], hurt[found.record], when[found.record] = (
            found.quantity,
            found.damaged,
            found.day,
        )
    # The orders of a record are consecutive; its returns fill the first of them.
    ends = np.cumsum(size)
    first = np.r_[0, np.nonzero(np.diff(record))[0] + 1]
    run_start = np.repeat(first, np.diff(np.r_[first, len(record)]))
    before = ends - size - (ends[run_start] - size[run_start])
    returned = np.clip(back[record] - before, 0, size)
    damaged = np.clip(hurt[record] - before, 0, returned)
    return returned, damaged, when[record]


@dataclass(frozen=True)
class _Times:
    """When each order was created, shipped (done: before now) and returned."""

    created: list[Any]
    shipped: list[Any]
    returned: list[Any]
    done: Bools
    units_back: Ints
    units_hurt: Ints


def _times(
    connection: Connection, history: History, record: Ints, size: Ints, *,
    start: int, now: int, rng: np.random.Generator,
) -> tuple[_Times, Ints]:  # fmt: skip
    """The orders' times, and the orders in the order they were created."""
    created = start + history.sales["day"][record] * DAY
    created += rng.integers(6 * 3600, DAY, size=len(record))
    shipped = created + rng.integers(3 * 3600, 40 * 3600, size=len(record))
    back, hurt, day = _returns_per_order(history, record, size)
    returned = np.where(
        back > 0, start + day * DAY + rng.integers(9 * 3600, 17 * 3600, size=len(record)), shipped
    )
    if np.any((back > 0) & ((shipped > now) | (returned <= shipped))):
        raise AssertionError("a return before its order shipped")
    times = _Times(
        stamps(connection, created),
        stamps(connection, shipped),
        stamps(connection, returned),
        shipped <= now,
        back,
        hurt,
    )
    return times, np.argsort(created, kind="stable")


@dataclass
class _Rows:
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    commitments: list[tuple[Any, ...]] = field(default_factory=list)


class _OrderWriter:
    """Turns orders of the history into rows and ledger entries, one at a time."""

    def __init__(
        self, connection: Connection, catalog: Catalog, history: History, keys: Keys,
        times: _Times, ledger: Ledger,
    ) -> None:  # fmt: skip
        self.catalog, self.history, self.keys = catalog, history, keys
        self.times, self.ledger, self.rows = times, ledger, _Rows()
        self.order_id = next_id(connection, orders)
        self.line_id = next_id(connection, order_lines)
        self.counters = dict.fromkeys((c.code for c in CHANNELS), 0)

    def order(self, n: int, record: int, units: int) -> None:
        """Order `n` of the history: sale record `record`, `units` listing units."""
        sales, t = self.history.sales, self.times
        group = self.history.groups[int(sales["group"][record])]
        spec = CHANNELS[group.channel]
        ext = external_id(spec.code, self.counters[spec.code])
        self.counters[spec.code] += 1
        done, back = bool(t.done[n]), int(t.units_back[n])
        updated = t.returned[n] if back else t.shipped[n] if done else t.created[n]
        zone = spec.zones[int(sales["zone"][record])][0]
        ingested = spec.code not in _RESERVED
        self.rows.orders.append((
            self.order_id, self.keys.channels[group.channel], ext,
            "ingest" if ingested else "reserve", "shipped" if done else "open",
            None if zone == "fba" else zone, t.created[n] if ingested else None,
            t.created[n], updated,
        ))  # fmt: skip
        member = int(sales["member"][record])
        listing_id, _, target, _ = self.catalog.listings[spec.code][group.rows[member]]
        parts = group.components[member]
        sku = target if isinstance(target, str) else self.catalog.skus[target]
        components = json.dumps({self.catalog.skus[i]: q for i, q in parts}, sort_keys=True)
        self.rows.lines.append((self.line_id, self.order_id, 1, listing_id, sku, components,
                                units, units if done else 0, 0, back))  # fmt: skip
        location = int(sales["location"][record])
        reference = f"order:{spec.code}:{ext}"
        for item, per in parts:
            self._part(n, item, location, per=per, units=units, reference=reference)
        self.order_id += 1
        self.line_id += 1

    def _part(
        self, n: int, item: int, location: int, *, per: int, units: int, reference: str
    ) -> None:
        """One item (`per` a listing unit) of an order's line: commitment, shipment, return."""
        need, back = units * per, int(self.times.units_back[n]) * per
        done, ledger = bool(self.times.done[n]), self.ledger
        level = (self.keys.items[item], self.keys.locations[location])
        self.rows.commitments.append((self.line_id, *level, 0 if done else need,
                                      need if done else 0, back))  # fmt: skip
        if not done:
            ledger.committed[item, location] += need
            return
        ledger.on_hand[item, location] -= need
        shipped = self.times.shipped[n]
        ledger.movements.append((*level, "shipment", -need, "shipped, line 1", "fulfilment",
                                 reference, shipped))  # fmt: skip
        if back:
            hurt = int(self.times.units_hurt[n]) * per
            self._return(n, item, location, (back, hurt), reference)

    def _return(
        self, n: int, item: int, location: int, units: tuple[int, int], reference: str
    ) -> None:
        back, hurt = units
        level = (self.keys.items[item], self.keys.locations[location])
        when, ledger = self.times.returned[n], self.ledger
        ledger.on_hand[item, location] += back
        if back > hurt:
            ledger.movements.append((*level, "return", back - hurt, "returned, line 1",
                                     "returns", reference, when))  # fmt: skip
        if hurt:
            note = "returned damaged, line 1"
            ledger.damaged[item, location] += hurt
            ledger.movements.append((*level, "return", hurt, note, "returns", reference, when))
            ledger.status_changes.append((*level, "damaged", hurt, "returns", note, reference,
                                          when))  # fmt: skip

    def flush(self, connection: Connection) -> dict[str, int]:
        """Write the rows; the number of orders per channel."""
        copy_rows(connection, "orders", _ORDER_COLUMNS, self.rows.orders)
        copy_rows(connection, "order_lines", _LINE_COLUMNS, self.rows.lines)
        copy_rows(connection, "order_commitments", _COMMITMENT_COLUMNS, self.rows.commitments)
        reset_sequence(connection, "orders")
        reset_sequence(connection, "order_lines")
        return self.counters


def write_orders(
    connection: Connection, catalog: Catalog, history: History, keys: Keys, *,
    start: int, now: int, rng: np.random.Generator,
) -> Ledger:  # fmt: skip
    """Write every order of the history; return the ledger with its shipments and returns."""
    record, size = _split(history, rng)
    times, by_time = _times(connection, history, record, size, start=start, now=now, rng=rng)
    ledger = Ledger.empty((len(catalog.skus), len(LOCATIONS)))
    writer = _OrderWriter(connection, catalog, history, keys, times, ledger)
    for n in by_time.tolist():
        writer.order(n, int(record[n]), int(size[n]))
    ledger.orders_per_channel = writer.counters
    writer.flush(connection)
    return ledger
