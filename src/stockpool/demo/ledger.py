"""The simulated history as ledger records: balances, purchase orders and stock levels.

`Ledger` gathers the movements and status changes of the whole history and the balances
they add up to: the orders (`order_records`), the opening balance and every purchase order
with its receipts and lead times (here; those that have not arrived count as `incoming`),
and damage, write-offs and transfers (`handling_records`). `write_levels` writes them with
the stock levels they add up to, which `stockpool verify` checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import Connection

from stockpool.demo.brand import Catalog
from stockpool.demo.calendar import Ints
from stockpool.demo.history import History
from stockpool.demo.layout import SUPPLIERS
from stockpool.demo.writer import copy_rows, core_rows, next_id, reset_sequence, stamp
from stockpool.store.purchasing_tables import lead_times, purchase_order_lines, purchase_orders
from stockpool.store.tables import stock_levels

DAY = 86_400
_MOVEMENT_COLUMNS = ("item_id", "location_id", "kind", "quantity", "reason", "actor",
                     "reference", "at")  # fmt: skip
_STATUS_COLUMNS = ("item_id", "location_id", "reason", "quantity", "actor", "note",
                   "reference", "at")  # fmt: skip


@dataclass(frozen=True)
class Keys:
    """Database ids of the demo's rows, by position in the catalog and layout."""

    items: list[int]
    locations: list[int]
    channels: list[int]
    suppliers: list[int]


@dataclass
class Ledger:
    """Rows on their way to the database, and the balances they add up to.

    Attributes:
        on_hand, committed, incoming, damaged: [item, location] balances.
        movements: (item id, location id, kind, quantity, reason, actor, reference, at).
        status_changes: (item id, location id, reason, quantity, actor, note, reference, at).
        orders_per_channel: how many orders each channel has.
    """

    on_hand: Ints
    committed: Ints
    incoming: Ints
    damaged: Ints
    movements: list[tuple[Any, ...]] = field(default_factory=list)
    status_changes: list[tuple[Any, ...]] = field(default_factory=list)
    orders_per_channel: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, shape: tuple[int, int]) -> Ledger:
        """All balances zero, no records."""
        zeros = [np.zeros(shape, np.int64) for _ in range(4)]
        return cls(on_hand=zeros[0], committed=zeros[1], incoming=zeros[2], damaged=zeros[3])


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


def write_purchases(
    connection: Connection, catalog: Catalog, history: History, keys: Keys, ledger: Ledger,
    *, start: int, days: int,
) -> int:  # fmt: skip
    """Write the opening balance and every purchase order with its receipts; return open POs."""
    opened_at = stamp(connection, at(start - 3600))
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
        opened = at(start + po.opened * DAY + 9 * 3600)
        arrived = at(start + po.arrives * DAY + 10 * 3600)
        received = po.arrives < days
        still_open += not received
        po_rows.append({
            "id": po_id, "supplier_id": keys.suppliers[po.supplier],
            "location_id": keys.locations[po.location],
            "status": "received" if received else "open", "reference": f"PO-{po_id:05d}",
            "actor": "planner", "created_at": opened, "opened_at": opened,
            "expected_at": at(start + po.expected * DAY + 9 * 3600),
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
    """Write the movements, the status changes and the stock levels they add up to."""
    copy_rows(connection, "movements", _MOVEMENT_COLUMNS, ledger.movements)
    copy_rows(connection, "status_changes", _STATUS_COLUMNS, ledger.status_changes)
    available = ledger.on_hand - ledger.committed - ledger.damaged
    if not np.array_equal(available, history.stock):
        raise AssertionError("the ledger does not add up to the simulated stock")
    if not np.array_equal(ledger.damaged, history.handling.damaged):
        raise AssertionError("the ledger's damaged units are not the simulation's")
    touched = history.opening.astype(bool) | ledger.on_hand.astype(bool)
    touched |= ledger.committed.astype(bool) | ledger.incoming.astype(bool)
    rows = [
        {
            "item_id": keys.items[i],
            "location_id": keys.locations[loc],
            "on_hand": int(ledger.on_hand[i, loc]),
            "committed": int(ledger.committed[i, loc]),
            "damaged": int(ledger.damaged[i, loc]),
            "available": int(available[i, loc]),
            "incoming": int(ledger.incoming[i, loc]),
            "version": 1,
        }  # fmt: skip
        for i, loc in zip(*np.nonzero(touched), strict=True)
    ]
    core_rows(connection, stock_levels, rows)


def at(seconds: int) -> datetime:
    """Seconds since 1970 as a UTC datetime."""
    return datetime.fromtimestamp(int(seconds), UTC)
