"""The simulated history as ledger records: orders, commitments, movements, purchase orders.

Each sale of the simulation becomes one or more channel orders (one line each; a wholesale
order takes all its case packs at once). An order shipped before `now` has its shipment
movements and a released commitment; a later one is still open and holds its units as
`committed`. Purchase orders that arrived have their receipt movements and lead times; the
others are open and count as `incoming`. The stock levels are then exactly what these
records add up to, which `stockpool verify` checks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection

from stockpool.demo.brand import Catalog
from stockpool.demo.calendar import Ints
from stockpool.demo.history import History
from stockpool.demo.layout import CHANNELS, LOCATIONS, SUPPLIERS
from stockpool.demo.writer import copy_rows, core_rows, next_id, reset_sequence, stamp, stamps
from stockpool.store.order_tables import order_lines, orders
from stockpool.store.purchasing_tables import lead_times, purchase_order_lines, purchase_orders
from stockpool.store.tables import stock_levels

DAY = 86_400
_RESERVED = ("shopify", "wholesale")  # our own checkout and B2B portal; the rest ingest
_MOVEMENT_COLUMNS = ("item_id", "location_id", "kind", "quantity", "reason", "actor",
                     "reference", "at")  # fmt: skip
_ORDER_COLUMNS = ("id", "channel_id", "external_id", "kind", "status", "ship_to_zone",
                  "channel_updated_at", "created_at", "updated_at")  # fmt: skip
_LINE_COLUMNS = ("id", "order_id", "line_no", "listing_id", "sku", "components", "quantity",
                 "shipped", "cancelled", "returned")  # fmt: skip
_COMMITMENT_COLUMNS = ("line_id", "item_id", "location_id", "committed", "shipped",
                       "returned")  # fmt: skip


@dataclass(frozen=True)
class Keys:
    """Database ids of the demo's rows, by position in the catalog and layout."""

    items: list[int]
    locations: list[int]
    channels: list[int]
    suppliers: list[int]


@dataclass
class Ledger:
    """Rows on their way to the database, and the balances they add up to."""

    on_hand: Ints
    committed: Ints
    incoming: Ints
    movements: list[tuple[Any, ...]] = field(default_factory=list)
    orders_per_channel: dict[str, int] = field(default_factory=dict)


def external_id(channel: str, n: int) -> str:
    """The n-th order id of a channel, in the channel's own format."""
    if channel == "shopify":
        return f"#{1001 + n}"
    if channel.startswith("amazon"):
        head = 111 + (n % 3) + (3 if channel == "amazon-fba" else 0)
        return f"{head}-{(n * 7919 + 1234567) % 10**7:07d}-{n % 10**7:07d}"
    if channel == "walmart":
        return f"{108_000_000_000 + n * 37}"
    if channel == "ebay":
        return f"{10 + n // 100_000:02d}-{n % 100_000:05d}-{(n * 7919) % 100_000:05d}"
    return f"WS-{10_001 + n}"


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


def write_orders(
    connection: Connection,
    catalog: Catalog,
    history: History,
    keys: Keys,
    *,
    start: int,
    now: int,
    rng: np.random.Generator,
) -> Ledger:
    """Write every order of the history; return the ledger with its shipment movements."""
    record, size = _split(history, rng)
    day = history.sales["day"][record]
    created = start + day * DAY + rng.integers(6 * 3600, DAY, size=len(record))
    shipped_at = created + rng.integers(3 * 3600, 40 * 3600, size=len(record))
    by_time = np.argsort(created, kind="stable")
    created_text, shipped_text = stamps(connection, created), stamps(connection, shipped_at)
    shape = (len(catalog.skus), len(LOCATIONS))
    ledger = Ledger(np.zeros(shape, np.int64), np.zeros(shape, np.int64), np.zeros(shape, np.int64))
    order_rows, line_rows, commitment_rows = [], [], []
    order_id, line_id = next_id(connection, orders), next_id(connection, order_lines)
    counters = dict.fromkeys((c.code for c in CHANNELS), 0)
    sales = history.sales
    for n in by_time.tolist():
        r = int(record[n])
        group = history.groups[int(sales["group"][r])]
        member, loc = int(sales["member"][r]), int(sales["location"][r])
        spec = CHANNELS[group.channel]
        ext = external_id(spec.code, counters[spec.code])
        counters[spec.code] += 1
        done = bool(shipped_at[n] <= now)
        when = shipped_text[n] if done else created_text[n]
        zone = spec.zones[int(sales["zone"][r])][0]
        order_rows.append((
            order_id, keys.channels[group.channel], ext,
            "reserve" if spec.code in _RESERVED else "ingest", "shipped" if done else "open",
            None if zone == "fba" else zone,
            None if spec.code in _RESERVED else created_text[n], created_text[n], when,
        ))  # fmt: skip
        listing_id, _, target, _ = catalog.listings[spec.code][group.rows[member]]
        parts = group.components[member]
        sku = target if isinstance(target, str) else catalog.skus[target]
        components = json.dumps({catalog.skus[i]: q for i, q in parts}, sort_keys=True)
        units = int(size[n])
        line_rows.append((line_id, order_id, 1, listing_id, sku, components, units,
                          units if done else 0, 0, 0))  # fmt: skip
        for item, per in parts:
            need = units * per
            commitment_rows.append((line_id, keys.items[item], keys.locations[loc],
                                    0 if done else need, need if done else 0, 0))  # fmt: skip
            if done:
                ledger.on_hand[item, loc] -= need
                ledger.movements.append((
                    keys.items[item], keys.locations[loc], "shipment", -need, "shipped, line 1",
                    "fulfilment", f"order:{spec.code}:{ext}", shipped_text[n],
                ))  # fmt: skip
            else:
                ledger.committed[item, loc] += need
        order_id += 1
        line_id += 1
    ledger.orders_per_channel = counters
    copy_rows(connection, "orders", _ORDER_COLUMNS, order_rows)
    copy_rows(connection, "order_lines", _LINE_COLUMNS, line_rows)
    copy_rows(connection, "order_commitments", _COMMITMENT_COLUMNS, commitment_rows)
    reset_sequence(connection, "orders")
    reset_sequence(connection, "order_lines")
    return ledger


def write_purchases(
    connection: Connection, catalog: Catalog, history: History, keys: Keys, ledger: Ledger,
    *, start: int, days: int,
) -> int:  # fmt: skip
    """Write the opening balance and every purchase order with its receipts; return open POs."""
    opened_at = stamp(connection, _at(start - 3600))
    for item, loc in zip(*np.nonzero(history.opening), strict=True):
        quantity = int(history.opening[item, loc])
        ledger.on_hand[item, loc] += quantity
        ledger.movements.append((keys.items[item], keys.locations[loc], "receipt", quantity,
                                 "opening balance", "import", "opening-balance",
                                 opened_at))  # fmt: skip
    po_rows, line_rows, lead_rows = [], [], []
    first = next_id(connection, purchase_orders)
    still_open = 0
    for n, po in enumerate(history.purchase_orders):
        po_id = first + n
        opened = _at(start + po.opened * DAY + 9 * 3600)
        arrived = _at(start + po.arrives * DAY + 10 * 3600)
        received = po.arrives < days
        still_open += not received
        po_rows.append({
            "id": po_id, "supplier_id": keys.suppliers[po.supplier],
            "location_id": keys.locations[po.location],
            "status": "received" if received else "open", "reference": f"PO-{po_id:05d}",
            "actor": "planner", "created_at": opened, "opened_at": opened,
            "expected_at": _at(start + po.expected * DAY + 9 * 3600),
            "closed_at": arrived if received else None,
        })  # fmt: skip
        supplier = SUPPLIERS[po.supplier].code
        when = stamp(connection, arrived)
        lead = Decimal(f"{(arrived - opened).total_seconds() / DAY:.3f}")
        for item, quantity in zip(po.items.tolist(), po.quantities.tolist(), strict=True):
            line_rows.append({"po_id": po_id, "item_id": keys.items[item], "quantity": quantity,
                              "unit_cost": Decimal(str(catalog.costs[item])),
                              "received": quantity if received else 0})  # fmt: skip
            if not received:
                ledger.incoming[item, po.location] += quantity
                continue
            ledger.on_hand[item, po.location] += quantity
            ledger.movements.append((keys.items[item], keys.locations[po.location], "receipt",
                                     quantity, f"PO {po_id} from {supplier}", "receiving",
                                     f"po:{po_id}", when))  # fmt: skip
            lead_rows.append({"supplier_id": keys.suppliers[po.supplier],
                              "item_id": keys.items[item], "po_id": po_id, "quantity": quantity,
                              "opened_at": opened, "received_at": arrived,
                              "days": lead})  # fmt: skip
    core_rows(connection, purchase_orders, po_rows)
    core_rows(connection, purchase_order_lines, line_rows)
    core_rows(connection, lead_times, lead_rows)
    reset_sequence(connection, "purchase_orders")
    return still_open


def write_levels(connection: Connection, history: History, keys: Keys, ledger: Ledger) -> None:
    """Write the movements and the stock levels they add up to."""
    copy_rows(connection, "movements", _MOVEMENT_COLUMNS, ledger.movements)
    available = ledger.on_hand - ledger.committed
    if not np.array_equal(available, history.stock):
        raise AssertionError("the ledger does not add up to the simulated stock")
    touched = history.opening.astype(bool) | ledger.on_hand.astype(bool)
    touched |= ledger.committed.astype(bool) | ledger.incoming.astype(bool)
    rows = [
        {
            "item_id": keys.items[i],
            "location_id": keys.locations[loc],
            "on_hand": int(ledger.on_hand[i, loc]),
            "committed": int(ledger.committed[i, loc]),
            "available": int(available[i, loc]),
            "incoming": int(ledger.incoming[i, loc]),
            "version": 1,
        }  # fmt: skip
        for i, loc in zip(*np.nonzero(touched), strict=True)
    ]
    core_rows(connection, stock_levels, rows)


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)
