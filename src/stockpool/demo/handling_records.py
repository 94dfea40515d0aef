"""Damage, write-offs and transfers of the simulated history as ledger records.

Damage in handling is a status change of available units into `damaged`, as `stockpool
stock damage` records it. A write-off takes damaged units off the books: an `adjustment`
movement out and a status change out of `damaged`. A transfer leaves its source with a
`transfer_out` movement; while in transit it counts as `incoming` at its destination, and
on arrival it becomes a `transfer_in` movement there.
"""

from __future__ import annotations

from sqlalchemy import Connection

from stockpool.demo.handling import LevelEvent, Transfer
from stockpool.demo.history import History
from stockpool.demo.layout import LOCATIONS
from stockpool.demo.ledger import DAY, Keys, Ledger, at
from stockpool.demo.writer import core_rows, next_id, reset_sequence, stamp
from stockpool.store.tables import transfer_lines, transfers

DAMAGE_HOUR, WRITE_OFF_HOUR, TRANSFER_HOUR = 15, 23, 6


def _damage(connection: Connection, event: LevelEvent, keys: Keys, ledger: Ledger, *,
            start: int) -> None:  # fmt: skip
    when = stamp(connection, at(start + event.day * DAY + DAMAGE_HOUR * 3600))
    for item, location, quantity in zip(
        event.items.tolist(), event.locations.tolist(), event.quantities.tolist(), strict=True
    ):
        ledger.damaged[item, location] += quantity
        ledger.status_changes.append((
            keys.items[item], keys.locations[location], "damaged", quantity, "warehouse",
            "damaged in handling", "", when,
        ))  # fmt: skip


def _write_off(connection: Connection, event: LevelEvent, keys: Keys, ledger: Ledger, *,
               start: int) -> None:  # fmt: skip
    when = at(start + event.day * DAY + WRITE_OFF_HOUR * 3600)
    stamped, reference = stamp(connection, when), f"write-off:{when.date().isoformat()}"
    for item, location, quantity in zip(
        event.items.tolist(), event.locations.tolist(), event.quantities.tolist(), strict=True
    ):
        level = (keys.items[item], keys.locations[location])
        ledger.on_hand[item, location] -= quantity
        ledger.damaged[item, location] -= quantity
        note = "write-off: damaged, disposed of"
        ledger.movements.append((*level, "adjustment", -quantity, note, "inventory", reference,
                                 stamped))  # fmt: skip
        ledger.status_changes.append((*level, "damaged", -quantity, "inventory", note,
                                      reference, stamped))  # fmt: skip


def _transfer(
    connection: Connection, transfer_id: int, sent: Transfer, keys: Keys, ledger: Ledger, *,
    start: int, days: int,
) -> tuple[dict[str, object], list[dict[str, object]]]:  # fmt: skip
    """The transfer's row and line rows; its movements and balances go to the ledger."""
    shipped = at(start + sent.shipped * DAY + TRANSFER_HOUR * 3600)
    arrived = at(start + sent.arrives * DAY + TRANSFER_HOUR * 3600)
    received = sent.arrives < days
    source, target = LOCATIONS[sent.source].code, LOCATIONS[sent.destination].code
    reference = f"transfer:{transfer_id}"
    row: dict[str, object] = {
        "id": transfer_id, "from_location_id": keys.locations[sent.source],
        "to_location_id": keys.locations[sent.destination],
        "status": "received" if received else "in_transit", "reference": f"TR-{transfer_id:05d}",
        "actor": "replenishment", "created_at": shipped, "shipped_at": shipped,
        "expected_at": at(start + sent.expected * DAY + TRANSFER_HOUR * 3600),
        "closed_at": arrived if received else None,
    }  # fmt: skip
    lines: list[dict[str, object]] = []
    for item, quantity in zip(sent.items.tolist(), sent.quantities.tolist(), strict=True):
        lines.append({"transfer_id": transfer_id, "item_id": keys.items[item],
                      "quantity": quantity, "received": quantity if received else 0,
                      "cancelled": 0})  # fmt: skip
        ledger.on_hand[item, sent.source] -= quantity
        ledger.movements.append((
            keys.items[item], keys.locations[sent.source], "transfer_out", -quantity,
            f"transfer {transfer_id} to {target}", "replenishment", reference,
            stamp(connection, shipped),
        ))  # fmt: skip
        if not received:
            ledger.incoming[item, sent.destination] += quantity
            continue
        ledger.on_hand[item, sent.destination] += quantity
        ledger.movements.append((
            keys.items[item], keys.locations[sent.destination], "transfer_in", quantity,
            f"transfer {transfer_id} from {source}", "replenishment", reference,
            stamp(connection, arrived),
        ))  # fmt: skip
    return row, lines


def write_handling(
    connection: Connection, history: History, keys: Keys, ledger: Ledger, *, start: int,
    days: int,
) -> int:  # fmt: skip
    """Record damage, write-offs and transfers; returns the transfers still in transit."""
    for event in history.handling.damage:
        _damage(connection, event, keys, ledger, start=start)
    for event in history.handling.write_offs:
        _write_off(connection, event, keys, ledger, start=start)
    first = next_id(connection, transfers)
    rows, lines = [], []
    for n, sent in enumerate(history.handling.transfers):
        row, its_lines = _transfer(
            connection, first + n, sent, keys, ledger, start=start, days=days
        )
        rows.append(row)
        lines.extend(its_lines)
    core_rows(connection, transfers, rows)
    core_rows(connection, transfer_lines, lines)
    reset_sequence(connection, "transfers")
    return sum(sent.arrives >= days for sent in history.handling.transfers)
