"""Bulk writes of on_hand for imports: thousands of levels in a few statements.

An import sets on_hand at many levels in one transaction. Level by level through
`SqlStock.apply` it would cost one round trip per row; here every phase is one statement
per chunk (executemany on SQLite, `unnest` arrays on PostgreSQL). The guarantees stay the
same: rows are locked in (SKU, location) order, the UPDATE refuses any level it would take
below zero (the row count is checked), and every change is a movement.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from stockpool.domain.errors import InsufficientStock
from stockpool.domain.ids import Sku
from stockpool.domain.quantities import StockState, UnavailableReason
from stockpool.store.driver import bind_datetime

CHUNK = 5000
_REASON_LIST = list(UnavailableReason)
_REASONS = [r.value for r in _REASON_LIST]
_STATE_COLUMNS = ", ".join(f"s.{c}" for c in ("on_hand", "committed", *_REASONS, "incoming"))

Key = tuple[int, int]
"""(item id, location id): a level as the store knows it."""


def _cursor(connection: Connection) -> Any:
    return connection.connection.driver_connection.cursor()  # type: ignore[union-attr]


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def item_ids(connection: Connection, skus: Collection[Sku]) -> dict[Sku, int]:
    """The keys of those SKUs that exist (one query per chunk)."""
    wanted = sorted(set(skus))
    found: dict[Sku, int] = {}
    cursor = _cursor(connection)
    try:
        for chunk in _chunks(wanted):
            if connection.dialect.name == "postgresql":
                cursor.execute("SELECT sku, id FROM items WHERE sku = ANY(%s)", (list(chunk),))
            else:
                marks = ", ".join("?" * len(chunk))
                cursor.execute(f"SELECT sku, id FROM items WHERE sku IN ({marks})", list(chunk))
            found.update((Sku(sku), int(key)) for sku, key in cursor.fetchall())
    finally:
        cursor.close()
    return found


def _state(values: Sequence[int]) -> StockState:
    on_hand, committed, *rest = values
    unavailable = dict(zip(_REASON_LIST, rest[: len(_REASONS)], strict=True))
    return StockState(on_hand, committed, unavailable, rest[len(_REASONS)])


def lock_levels(connection: Connection, keys: Sequence[Key]) -> dict[Key, StockState]:
    """Create missing rows, lock the levels in the order given, and return their states.

    `keys` must already be in (SKU, location code) order; on SQLite the transaction holds
    the database's write lock, so no row lock is taken.
    """
    cursor = _cursor(connection)
    states: dict[Key, StockState] = {}
    try:
        for chunk in _chunks(keys):
            items = [k[0] for k in chunk]
            places = [k[1] for k in chunk]
            if connection.dialect.name == "postgresql":
                _lock_chunk_postgres(cursor, items, places)
            else:
                cursor.executemany(
                    "INSERT INTO stock_levels (item_id, location_id) VALUES (?, ?) "
                    "ON CONFLICT (item_id, location_id) DO NOTHING",
                    chunk,
                )
                marks = ", ".join("?" * len(set(items)))
                cursor.execute(
                    f"SELECT s.item_id, s.location_id, {_STATE_COLUMNS} FROM stock_levels s "
                    f"WHERE s.item_id IN ({marks})",
                    sorted(set(items)),
                )
            wanted = set(chunk)
            for row in cursor.fetchall():
                key = (int(row[0]), int(row[1]))
                if key in wanted:
                    states[key] = _state(row[2:])
    finally:
        cursor.close()
    return states


def _lock_chunk_postgres(cursor: Any, items: list[int], places: list[int]) -> None:
    arrays = {"items": items, "places": places}
    cursor.execute(
        "INSERT INTO stock_levels (item_id, location_id) "
        "SELECT * FROM unnest(%(items)s::bigint[], %(places)s::bigint[]) "
        "ON CONFLICT (item_id, location_id) DO NOTHING",
        arrays,
    )
    cursor.execute(
        f"SELECT s.item_id, s.location_id, {_STATE_COLUMNS} FROM stock_levels s "
        "JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id "
        "WHERE (s.item_id, s.location_id) IN "
        "(SELECT * FROM unnest(%(items)s::bigint[], %(places)s::bigint[])) "
        'ORDER BY i.sku COLLATE "C", l.code COLLATE "C" FOR UPDATE OF s',
        arrays,
    )


def apply_on_hand(
    connection: Connection,
    changes: Sequence[tuple[int, int, int]],
    movement: tuple[str, str, str, str, datetime],
) -> None:
    """Add (item, location, delta) to on_hand and append one movement per change.

    Args:
        connection: the unit of work's connection.
        changes: per level, the signed change of on_hand (never 0).
        movement: kind, reason, actor, reference and time of every movement.

    Raises:
        InsufficientStock: a change would take a level below zero (nothing of this chunk
            may be kept: the caller's transaction must roll back).
    """
    kind, reason, actor, reference, at = movement
    when = bind_datetime(connection, at)
    cursor = _cursor(connection)
    try:
        for chunk in _chunks(changes):
            if connection.dialect.name == "postgresql":
                updated = _apply_chunk_postgres(
                    cursor, chunk, (kind, reason, actor, reference, when)
                )
            else:
                updated = _apply_chunk_sqlite(cursor, chunk, (kind, reason, actor, reference, when))
            if updated != len(chunk):
                raise InsufficientStock(
                    "an imported on_hand would take a level below zero", asked=0, available=0
                )
    finally:
        cursor.close()


def _apply_chunk_sqlite(
    cursor: Any, chunk: Sequence[tuple[int, int, int]], meta: tuple[Any, ...]
) -> int:
    cursor.executemany(
        "UPDATE stock_levels SET on_hand = on_hand + ?1, available = available + ?1, "
        "version = version + 1 WHERE item_id = ?2 AND location_id = ?3 "
        "AND on_hand + ?1 >= 0 AND available + ?1 >= 0",
        [(delta, item, place) for item, place, delta in chunk],
    )
    updated = int(cursor.rowcount)
    kind, reason, actor, reference, when = meta
    cursor.executemany(
        "INSERT INTO movements "
        "(item_id, location_id, kind, quantity, reason, actor, reference, at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (item, place, kind, delta, reason, actor, reference, when)
            for item, place, delta in chunk
        ],
    )
    return updated


def _apply_chunk_postgres(
    cursor: Any, chunk: Sequence[tuple[int, int, int]], meta: tuple[Any, ...]
) -> int:
    kind, reason, actor, reference, when = meta
    arrays = {
        "items": [c[0] for c in chunk],
        "places": [c[1] for c in chunk],
        "deltas": [c[2] for c in chunk],
    }
    cursor.execute(
        "UPDATE stock_levels s SET on_hand = s.on_hand + d.delta, "
        "available = s.available + d.delta, version = s.version + 1 "
        "FROM unnest(%(items)s::bigint[], %(places)s::bigint[], %(deltas)s::bigint[]) "
        "AS d(item_id, location_id, delta) "
        "WHERE s.item_id = d.item_id AND s.location_id = d.location_id "
        "AND s.on_hand + d.delta >= 0 AND s.available + d.delta >= 0",
        arrays,
    )
    updated = int(cursor.rowcount)
    cursor.execute(
        "INSERT INTO movements "
        "(item_id, location_id, kind, quantity, reason, actor, reference, at) "
        "SELECT d.i, d.l, %(kind)s, d.q, %(reason)s, %(actor)s, %(reference)s, %(at)s "
        "FROM unnest(%(items)s::bigint[], %(places)s::bigint[], %(deltas)s::bigint[]) "
        "AS d(i, l, q)",
        {
            **arrays,
            "kind": kind,
            "reason": reason,
            "actor": actor,
            "reference": reference,
            "at": when,
        },
    )
    return updated
