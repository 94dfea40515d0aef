"""Stock levels and the ledger records behind them.

A delta is applied with ONE conditional write per level: an upsert when it only adds, and
otherwise an UPDATE whose WHERE clause refuses to take any state below zero (and, for a
count, to apply over an on_hand that changed since it was read). The row count tells the
caller whether the write happened; concurrent writers therefore can never jointly overdraw
a level, on SQLite and on PostgreSQL alike, without relying on an isolation level.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, case, func, insert, select

from stockpool.domain.errors import ConcurrentChange, InsufficientStock
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import LevelKey, Movement, MovementKind, StatusChange, StockDelta
from stockpool.domain.purchasing import INCOMING_STATUSES
from stockpool.domain.quantities import StockState, UnavailableReason
from stockpool.domain.transfers import OPEN_STATUSES
from stockpool.store import bulk_levels
from stockpool.store.driver import DriverStatement, WriteChecks, bind_datetime
from stockpool.store.ids import IdMap
from stockpool.store.order_tables import order_commitments
from stockpool.store.purchasing_tables import purchase_order_lines, purchase_orders
from stockpool.store.tables import (
    items,
    locations,
    movements,
    status_changes,
    stock_levels,
    transfer_lines,
    transfers,
)

# The hot statements are written once, in SQL that SQLite and PostgreSQL share, and run on
# the driver (see `driver`): building them per call would cost more than the database work.
_COUNTS = ("on_hand", "committed", *(r.value for r in UnavailableReason), "available", "incoming")
_NO_CHANGE = dict.fromkeys(_COUNTS, 0)
_RETURNING = "RETURNING " + ", ".join(("item_id", "location_id", *_COUNTS, "version"))
_UPSERT = DriverStatement(
    f"INSERT INTO stock_levels (item_id, location_id, {', '.join(_COUNTS)}, version) "
    f"VALUES (:item_id, :location_id, {', '.join(':' + c for c in _COUNTS)}, 1) "
    "ON CONFLICT (item_id, location_id) DO UPDATE SET "
    + ", ".join(f"{c} = stock_levels.{c} + excluded.{c}" for c in _COUNTS)
    + ", version = stock_levels.version + 1 "
    + _RETURNING
)
_ENSURE_ROW = DriverStatement(
    "INSERT INTO stock_levels (item_id, location_id) VALUES (:item_id, :location_id) "
    "ON CONFLICT (item_id, location_id) DO NOTHING"
)
_UPDATE_SQL = (
    "UPDATE stock_levels SET "
    + ", ".join(f"{c} = {c} + :{c}" for c in _COUNTS)
    + ", version = version + 1 WHERE item_id = :item_id AND location_id = :location_id AND "
    + " AND ".join(f"{c} + :{c} >= 0" for c in _COUNTS)
)
_UPDATE = DriverStatement(f"{_UPDATE_SQL} {_RETURNING}")
_UPDATE_EXPECTING = DriverStatement(f"{_UPDATE_SQL} AND on_hand = :expect {_RETURNING}")
_LOCK_ITEMS = (
    "SELECT i.sku, l.code, s.available, s.item_id, s.location_id FROM stock_levels s "
    "JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id "
    "WHERE i.sku {where} ORDER BY i.sku, l.code"
)
_LOCK_ITEMS_POSTGRES = _LOCK_ITEMS.format(where="= ANY(%s)") + " FOR UPDATE OF s"
_LOCK_ITEMS_SQLITE = _LOCK_ITEMS.replace("{where}", "IN ({marks})")
# Commitments at many levels in one statement (PostgreSQL: one round trip instead of one per
# level). The levels are locked in key order first, so that two such statements never wait
# on each other crosswise; a level without the units is left out, and the caller refuses.
_COMMIT_MANY_POSTGRES = DriverStatement(
    "WITH v AS (SELECT * FROM unnest(CAST(:items AS bigint[]), CAST(:locations AS bigint[]), "
    "CAST(:units AS bigint[])) AS v(item_id, location_id, q)), "
    "locked AS (SELECT s.item_id, s.location_id FROM stock_levels s "
    "JOIN v ON v.item_id = s.item_id AND v.location_id = s.location_id "
    "ORDER BY s.item_id, s.location_id FOR UPDATE OF s) "
    "UPDATE stock_levels AS s SET committed = s.committed + v.q, "
    "available = s.available - v.q, version = s.version + 1 FROM v, locked "
    "WHERE s.item_id = v.item_id AND s.location_id = v.location_id "
    "AND locked.item_id = v.item_id AND locked.location_id = v.location_id "
    "AND s.available - v.q >= 0 AND s.committed + v.q >= 0 "
    "RETURNING s.item_id, s.location_id"
)
# SQLite: the same condition, one level per parameter row (levels locked and read first).
_COMMIT_LOCKED_SQLITE = (
    "UPDATE stock_levels SET committed = committed + ?1, available = available - ?1, "
    "version = version + 1 WHERE item_id = ?2 AND location_id = ?3 "
    "AND available - ?1 >= 0 AND committed + ?1 >= 0"
)
_INSERT_MOVEMENT = DriverStatement(
    "INSERT INTO movements (item_id, location_id, kind, quantity, reason, actor, reference, at) "
    "VALUES (:item_id, :location_id, :kind, :quantity, :reason, :actor, :reference, :at)"
)


def state_from_values(values: tuple[Any, ...] | None) -> StockState:
    """Map the columns of `_RETURNING` (or their absence) to a StockState."""
    if values is None:
        return StockState()
    named = dict(zip(_COUNTS, values[2:], strict=False))
    return StockState(
        on_hand=named["on_hand"],
        committed=named["committed"],
        unavailable={reason: named[reason.value] for reason in UnavailableReason},
        incoming=named["incoming"],
    )


def state_from_row(row: Row[Any] | None) -> StockState:
    """Map a `stock_levels` row (or its absence) to a StockState."""
    if row is None:
        return StockState()
    return StockState(
        on_hand=row.on_hand,
        committed=row.committed,
        unavailable={reason: getattr(row, reason.value) for reason in UnavailableReason},
        incoming=row.incoming,
    )


def _changes(delta: StockDelta) -> dict[str, int]:
    changes = {
        name: value
        for name, value in (
            ("on_hand", delta.on_hand),
            ("committed", delta.committed),
            ("incoming", delta.incoming),
            ("available", delta.available),
        )
        if value
    }
    changes.update({r.value: q for r, q in delta.unavailable.items() if q})
    return changes


class SqlStock:
    """Stock repository on one connection (inside a unit of work)."""

    def __init__(
        self, connection: Connection, ids: IdMap, checks: WriteChecks | None = None
    ) -> None:
        self._c = connection
        self._ids = ids
        self._touched: set[Sku] = set()
        self._bulk_ids: dict[Sku, int] = {}
        # Available units of items locked by `lock_items`, kept in step by `commit_units`;
        # any other change of an item's levels forgets it (see `known_available`).
        self._known: dict[Sku, dict[LocationCode, int]] = {}
        # Row-count checks of writes sent but not yet checked (the unit of work makes them).
        self._checks = WriteChecks() if checks is None else checks

    def touched(self) -> set[Sku]:
        """The items whose balances this unit of work changed."""
        return self._touched

    def touch(self, skus: Iterable[Sku]) -> None:
        """Mark items whose listings must be recomputed although no balance changed."""
        self._touched.update(skus)

    def apply(
        self, sku: Sku, location: LocationCode, delta: StockDelta, *, expect_on_hand: int | None
    ) -> StockState:
        """Apply a delta to one level, refusing any negative state. Returns the new state.

        Raises:
            InsufficientStock: a state would go below zero (nothing was written).
            ConcurrentChange: `expect_on_hand` no longer holds.
        """
        item_id = self._ids.item(sku)
        location_id = self._ids.location(location)
        changes = _changes(delta)
        if not changes:
            return self.get_state(sku, location)
        self._touched.add(sku)
        self._known.pop(sku, None)
        if expect_on_hand is None and all(v > 0 for v in changes.values()):
            row = self._upsert(item_id, location_id, changes)
        else:
            if expect_on_hand == 0:  # a count may be the first thing to touch this level
                self._ensure_row(item_id, location_id)
            row = self._conditional_update(item_id, location_id, changes, expect_on_hand)
        if row is None:
            self._explain_refusal(sku, location, delta, expect_on_hand)
        return state_from_values(row)

    def commit_units(self, levels: Sequence[tuple[Sku, LocationCode, int]]) -> None:
        """Commit units at many levels (each from its available), in one go.

        On PostgreSQL, inside a pipeline (`SqlUnitOfWork.pipeline`), the row counts are
        checked at its end, so that the write travels with the others.

        Raises:
            InsufficientStock: a level has fewer available units (the caller's transaction
                must then be rolled back).
        """
        known = {s: dict(self._known[s]) for s, _, _ in levels if s in self._known}
        for sku, location, units in levels:
            if sku in known:
                known[sku][location] = known[sku].get(location, 0) - units
        if self._c.dialect.name != "postgresql":  # no round trips to save
            if len(known) < len({sku for sku, _, _ in levels}):  # not locked here
                for sku, location, units in levels:
                    self.apply(sku, location, StockDelta(committed=units), expect_on_hand=None)
                return
            self._commit_locked_units(levels)
            self._known.update(known)
            return
        if not levels:
            return
        keys = [(self._ids.item(s), self._ids.location(loc)) for s, loc, _ in levels]
        params = {
            "items": [i for i, _ in keys],
            "locations": [loc for _, loc in keys],
            "units": [units for _, _, units in levels],
        }
        cursor = _COMMIT_MANY_POSTGRES.send(self._c, params)
        self._touched.update(s for s, _, _ in levels)
        self._known.update(known)

        def check() -> None:
            try:
                done = {(int(i), int(loc)) for i, loc in cursor.fetchall()}
            finally:
                cursor.close()
            for key, (sku, location, units) in zip(keys, levels, strict=True):
                if key not in done:
                    self._known.pop(sku, None)
                    self._explain_refusal(sku, location, StockDelta(committed=units), None)

        self._checks.add(check)

    def _commit_locked_units(self, levels: Sequence[tuple[Sku, LocationCode, int]]) -> None:
        """SQLite: the conditional writes of levels whose items `lock_items` read, in one
        `executemany`; its row count is the number of levels written."""
        rows = [(units, self._ids.item(s), self._ids.location(loc)) for s, loc, units in levels]
        cursor = self._c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(_COMMIT_LOCKED_SQLITE, rows)
            written = cursor.rowcount
        finally:
            cursor.close()
        self._touched.update(s for s, _, _ in levels)
        if written == len(levels):
            return
        for sku, location, units in levels:  # the transaction is lost: say which level
            held = self._known[sku].get(location, 0)
            if held < units:
                raise InsufficientStock(
                    f"{sku} at {location} has {held} available; {units} needed",
                    asked=units,
                    available=held,
                )
        raise InsufficientStock(
            f"{len(levels) - written} of {len(levels)} levels refused", asked=0, available=0
        )

    def known_available(self, skus: Collection[Sku]) -> dict[Sku, dict[LocationCode, int]] | None:
        """Positive available units of `skus` as this unit of work left them, when every one
        of them was locked by `lock_items` and changed since only by `commit_units`; None
        otherwise (read them then)."""
        if not all(sku in self._known for sku in skus):
            return None
        return {
            sku: {code: units for code, units in self._known[sku].items() if units > 0}
            for sku in skus
        }

    def _upsert(
        self, item_id: int, location_id: int, changes: dict[str, int]
    ) -> tuple[Any, ...] | None:
        params = {**_NO_CHANGE, **changes, "item_id": item_id, "location_id": location_id}
        return _UPSERT.run(self._c, params)

    def _ensure_row(self, item_id: int, location_id: int) -> None:
        _ENSURE_ROW.run(self._c, {"item_id": item_id, "location_id": location_id})

    def _conditional_update(
        self, item_id: int, location_id: int, changes: dict[str, int], expect_on_hand: int | None
    ) -> tuple[Any, ...] | None:
        params = {**_NO_CHANGE, **changes, "item_id": item_id, "location_id": location_id}
        if expect_on_hand is None:
            return _UPDATE.run(self._c, params)
        return _UPDATE_EXPECTING.run(self._c, {**params, "expect": expect_on_hand})

    def _explain_refusal(
        self, sku: Sku, location: LocationCode, delta: StockDelta, expect_on_hand: int | None
    ) -> None:
        state = self.get_state(sku, location)
        if expect_on_hand is not None and state.on_hand != expect_on_hand:
            raise ConcurrentChange(f"{sku} at {location} changed while it was being counted")
        if delta.available < 0 and state.available < -delta.available:
            raise InsufficientStock(
                f"{sku} at {location} has {state.available} available; {-delta.available} needed",
                asked=-delta.available,
                available=state.available,
            )
        for reason in UnavailableReason:
            held = state.unavailable[reason]
            if delta.unavailable_of(reason) < 0 and held < -delta.unavailable_of(reason):
                raise InsufficientStock(
                    f"{sku} at {location} has {held} {reason}; {-delta.unavailable_of(reason)} "
                    "needed",
                    asked=-delta.unavailable_of(reason),
                    available=held,
                )
        raise InsufficientStock(
            f"{sku} at {location}: the change would take a balance below zero ({state})",
            asked=0,
            available=state.available,
        )

    def record_movement(self, movement: Movement) -> None:
        """Append a movement to the ledger."""
        _INSERT_MOVEMENT.run(
            self._c,
            {
                "item_id": self._ids.item(movement.sku),
                "location_id": self._ids.location(movement.location),
                "kind": movement.kind.value,
                "quantity": movement.quantity,
                "reason": movement.reason,
                "actor": movement.actor,
                "reference": movement.reference,
                "at": bind_datetime(self._c, movement.at),
            },
        )

    def record_status_change(self, change: StatusChange) -> None:
        """Append a status change to the ledger."""
        self._c.execute(
            insert(status_changes).values(
                item_id=self._ids.item(change.sku),
                location_id=self._ids.location(change.location),
                reason=change.reason.value,
                quantity=change.quantity,
                actor=change.actor,
                note=change.note,
                reference=change.reference,
                at=change.at,
            )
        )

    def get_state(self, sku: Sku, location: LocationCode, *, lock: bool = False) -> StockState:
        """The stored state of one level (all zero if it was never touched).

        With `lock`, the level's row is created if missing and locked until the end of the
        transaction (PostgreSQL; SQLite transactions already hold the write lock).
        """
        item_id, location_id = self._ids.item(sku), self._ids.location(location)
        query = select(stock_levels).where(
            stock_levels.c.item_id == item_id, stock_levels.c.location_id == location_id
        )
        if lock:
            self._ensure_row(item_id, location_id)
            if self._c.dialect.name == "postgresql":
                query = query.with_for_update()
        return state_from_row(self._c.execute(query).first())

    def states_of(self, sku: Sku) -> list[tuple[LocationCode, StockState]]:
        """The state at every location that ever held the item, by location priority."""
        query = (
            select(locations.c.code, stock_levels)
            .join(locations, locations.c.id == stock_levels.c.location_id)
            .where(stock_levels.c.item_id == self._ids.item(sku))
            .order_by(locations.c.priority, locations.c.code)
        )
        return [(LocationCode(r.code), state_from_row(r)) for r in self._c.execute(query)]

    def movements_of(
        self,
        sku: Sku,
        *,
        location: LocationCode | None,
        limit: int,
        before_id: int | None = None,
        kind: MovementKind | None = None,
    ) -> list[tuple[int, Movement]]:
        """The newest movements of an item first (ids below `before_id`), with their ids."""
        query = (
            select(movements, locations.c.code)
            .join(locations, locations.c.id == movements.c.location_id)
            .where(movements.c.item_id == self._ids.item(sku))
            .order_by(movements.c.id.desc())
            .limit(limit)
        )
        if location is not None:
            query = query.where(movements.c.location_id == self._ids.location(location))
        if before_id is not None:
            query = query.where(movements.c.id < before_id)
        if kind is not None:
            query = query.where(movements.c.kind == kind.value)
        return [
            (
                r.id,
                Movement(
                    sku=sku,
                    location=LocationCode(r.code),
                    kind=MovementKind(r.kind),
                    quantity=r.quantity,
                    reason=r.reason,
                    actor=r.actor,
                    reference=r.reference,
                    at=r.at,
                ),
            )
            for r in self._c.execute(query)
        ]

    def stored_levels(self) -> dict[LevelKey, tuple[StockState, int]]:
        """Every stored level with its stored `available` column."""
        query = (
            select(items.c.sku, locations.c.code, stock_levels)
            .join(items, items.c.id == stock_levels.c.item_id)
            .join(locations, locations.c.id == stock_levels.c.location_id)
        )
        return {
            (Sku(r.sku), LocationCode(r.code)): (state_from_row(r), r.available)
            for r in self._c.execute(query)
        }

    def movement_totals(self) -> Iterator[tuple[LevelKey, int]]:
        """Sum of movements per level."""
        query = (
            select(items.c.sku, locations.c.code, func.sum(movements.c.quantity))
            .join(items, items.c.id == movements.c.item_id)
            .join(locations, locations.c.id == movements.c.location_id)
            .group_by(items.c.sku, locations.c.code)
        )
        for sku, code, total in self._c.execute(query):
            yield (Sku(sku), LocationCode(code)), int(total)

    def status_totals(self) -> Iterator[tuple[LevelKey, UnavailableReason, int]]:
        """Sum of status changes per level and reason."""
        query = (
            select(
                items.c.sku,
                locations.c.code,
                status_changes.c.reason,
                func.sum(status_changes.c.quantity),
            )
            .join(items, items.c.id == status_changes.c.item_id)
            .join(locations, locations.c.id == status_changes.c.location_id)
            .group_by(items.c.sku, locations.c.code, status_changes.c.reason)
        )
        for sku, code, reason, total in self._c.execute(query):
            yield (Sku(sku), LocationCode(code)), UnavailableReason(reason), int(total)

    def open_commitments(self) -> dict[LevelKey, int]:
        """Units committed to open order lines per level."""
        query = (
            select(items.c.sku, locations.c.code, func.sum(order_commitments.c.committed))
            .join(items, items.c.id == order_commitments.c.item_id)
            .join(locations, locations.c.id == order_commitments.c.location_id)
            .group_by(items.c.sku, locations.c.code)
        )
        return {
            (Sku(sku), LocationCode(code)): int(total)
            for sku, code, total in self._c.execute(query)
            if total
        }

    def lock_items(self, skus: Collection[Sku]) -> dict[Sku, dict[LocationCode, int]]:
        """Lock every stock level of these items in (SKU, location) order; their available.

        On PostgreSQL the rows stay locked (`FOR UPDATE`) until the transaction ends; SQLite
        transactions already hold the database's write lock. Levels not yet created hold
        nothing to sell and need no lock.
        """
        wanted = sorted(set(skus))
        found: dict[Sku, dict[LocationCode, int]] = {sku: {} for sku in wanted}
        if not wanted:
            return found
        cursor = self._c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if self._c.dialect.name == "postgresql":
                cursor.execute(_LOCK_ITEMS_POSTGRES, (wanted,))
            else:
                marks = ", ".join("?" * len(wanted))
                cursor.execute(_LOCK_ITEMS_SQLITE.format(marks=marks), wanted)
            item_ids: dict[str, int] = {}
            location_ids: dict[str, int] = {}
            for sku, code, available, item_id, location_id in cursor.fetchall():
                found[Sku(sku)][LocationCode(code)] = int(available)
                item_ids[sku], location_ids[code] = item_id, location_id
        finally:
            cursor.close()
        self._ids.learn(item_ids, location_ids)
        self._known.update((sku, dict(places)) for sku, places in found.items())
        return found

    def open_incoming(self) -> dict[LevelKey, int]:
        """Units on their way to each level: open transfers and open purchase orders."""
        in_transit = (
            transfer_lines.c.quantity - transfer_lines.c.received - transfer_lines.c.cancelled
        )
        transfers_query = (
            select(items.c.sku, locations.c.code, func.sum(in_transit))
            .select_from(transfer_lines)
            .join(transfers, transfers.c.id == transfer_lines.c.transfer_id)
            .join(items, items.c.id == transfer_lines.c.item_id)
            .join(locations, locations.c.id == transfers.c.to_location_id)
            .where(transfers.c.status.in_([s.value for s in OPEN_STATUSES]))
            .group_by(items.c.sku, locations.c.code)
        )
        lines = purchase_order_lines.c
        outstanding = case(
            (lines.quantity > lines.received, lines.quantity - lines.received), else_=0
        )
        po_query = (
            select(items.c.sku, locations.c.code, func.sum(outstanding))
            .select_from(purchase_order_lines)
            .join(purchase_orders, purchase_orders.c.id == lines.po_id)
            .join(items, items.c.id == lines.item_id)
            .join(locations, locations.c.id == purchase_orders.c.location_id)
            .where(purchase_orders.c.status.in_([s.value for s in INCOMING_STATUSES]))
            .group_by(items.c.sku, locations.c.code)
        )
        found: dict[LevelKey, int] = {}
        for query in (transfers_query, po_query):
            for sku, code, total in self._c.execute(query):
                key = (Sku(sku), LocationCode(code))
                found[key] = found.get(key, 0) + int(total or 0)
        return {key: total for key, total in found.items() if total}

    def existing_items(self, skus: Collection[Sku]) -> set[Sku]:
        """Bulk: which of these SKUs exist (resolved in a few queries, for imports)."""
        self._bulk_ids.update(bulk_levels.item_ids(self._c, skus))
        return {sku for sku in skus if sku in self._bulk_ids}

    def _bulk_key(self, key: LevelKey) -> tuple[int, int]:
        item = self._bulk_ids.get(key[0]) or self._ids.item(key[0])
        return item, self._ids.location(key[1])

    def lock_levels(self, keys: Collection[LevelKey]) -> dict[LevelKey, StockState]:
        """Bulk: create missing levels, lock them in (SKU, location) order, return states."""
        ordered = sorted(set(keys))
        ids = [self._bulk_key(key) for key in ordered]
        states = bulk_levels.lock_levels(self._c, ids)
        empty = StockState()
        return {key: states.get(i, empty) for key, i in zip(ordered, ids, strict=True)}

    def apply_on_hand_bulk(
        self,
        changes: Sequence[tuple[Sku, LocationCode, int]],
        *,
        kind: MovementKind,
        reason: str,
        actor: str,
        reference: str,
        at: datetime,
    ) -> None:
        """Bulk: add each signed change to on_hand, one movement each (see `bulk_levels`).

        Raises:
            InsufficientStock: a level would go below zero; the transaction must roll back.
        """
        rows = [(*self._bulk_key((sku, code)), delta) for sku, code, delta in changes if delta]
        bulk_levels.apply_on_hand(self._c, rows, (kind.value, reason, actor, reference, at))
        self._touched.update(sku for sku, _, delta in changes if delta)
        self._known.clear()
