"""Available stock per item for the ATS engine, and each listing's stored ATS and version."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from stockpool.domain.ids import LocationCode, Sku
from stockpool.store.driver import (
    DriverStatement,
    answer_soon,
    bind_datetime,
    bind_list,
    list_statement,
)
from stockpool.store.ids import IdMap

_READ_ALL_ABOVE = 20_000  # listings: above this many, one read of all beats a list of ids
# Bulk reads and writes of every listing run on the driver (see `driver`).
_ALL_STORED = DriverStatement(
    "SELECT listing_row_id, ats, ats_version, id FROM listing_ats ORDER BY listing_row_id"
)
_STORED_OF = list_statement(
    "SELECT listing_row_id, ats, ats_version, id FROM listing_ats "
    "WHERE listing_row_id IN LIST(:ids) ORDER BY listing_row_id"
)
# Listings whose keys in `listing_ats` are known are read by them: item by item, as the
# rows are kept, with no detour through the index of listing row ids.
_STORED_BY_KEY = list_statement(
    "SELECT listing_row_id, ats, ats_version, id FROM listing_ats WHERE id IN LIST(:keys)"
)
_AVAILABLE_SQL = (
    "SELECT i.sku, l.code, s.available FROM stock_levels s "
    "JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id "
    "WHERE s.available > 0"
)
_AVAILABLE = DriverStatement(_AVAILABLE_SQL)
_AVAILABLE_OF = list_statement(f"{_AVAILABLE_SQL} AND i.sku IN LIST(:skus)")
_STORE = DriverStatement(
    "UPDATE listing_ats SET ats = ?, ats_version = ats_version + 1, ats_at = ? WHERE id = ?"
)
# PostgreSQL pays a round trip per statement even when pipelined: there, the values go in
# two arrays, one statement per slice.
_STORE_ARRAYS = DriverStatement(
    "UPDATE listing_ats SET ats = v.ats, ats_version = listing_ats.ats_version + 1, "
    "ats_at = :at FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS bigint[])) AS v(id, ats) "
    "WHERE listing_ats.listing_row_id = v.id"
)
_ARRAY_SLICE = 50_000


class _ReadAhead:
    """A read of stored values sent ahead: the listings it covers, its cursor, its rows."""

    def __init__(self, covered: frozenset[int], cursor: Any) -> None:
        self.covered = covered
        self.cursor = cursor
        self.rows: list[tuple[Any, ...]] | None = None

    def answer(self) -> list[tuple[Any, ...]]:
        """The rows of the answer (waiting for it the first time, if it has not come)."""
        if self.rows is None:
            try:
                self.rows = self.cursor.fetchall()
            finally:
                self.cursor.close()
        return self.rows


class SqlAts:
    """ATS inputs and outputs on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection, ids: IdMap) -> None:
        self._c = connection
        self._ids = ids
        self._keys: dict[int, int] = {}  # listing row id -> key in `listing_ats`, as read
        self._ahead: _ReadAhead | None = None  # see `prefetch`

    def prefetch(self, listing_ids: Collection[int]) -> None:
        """Ask now for these listings' stored values, for a later `stored_rows`.

        Inside a PostgreSQL pipeline the read goes out at once and its answer comes back as
        soon as the server has it, while the caller works on; `receive_prefetched` takes it
        in (before the statements that follow would make it wait for theirs). Elsewhere this
        does nothing. A `store` drops what was read (it would be stale).
        """
        if self._c.dialect.name != "postgresql" or not listing_ids:
            return
        wanted = frozenset(listing_ids)
        statement, params = self._read_of(wanted)
        cursor = statement.send(self._c, params)
        answer_soon(self._c)
        self._ahead = _ReadAhead(wanted, cursor)

    def receive_prefetched(self) -> None:
        """Take in the answer of `prefetch` (waiting for it if it has not come yet)."""
        if self._ahead is not None:
            self._ahead.answer()

    def _read_of(self, wanted: Collection[int]) -> tuple[DriverStatement, dict[str, Any]]:
        """The read of these listings' stored values: by their keys in `listing_ats` when
        known (item by item, as the rows are kept), else by listing row id."""
        keys = self._ids.ats_keys(wanted)
        if keys is None:
            return _STORED_OF, {"ids": bind_list(self._c, sorted(wanted))}
        self._keys.update(keys)
        return _STORED_BY_KEY, {"keys": bind_list(self._c, sorted(keys.values()))}

    def _remember(
        self, rows: list[tuple[Any, ...]], *, share: bool = True
    ) -> list[tuple[Any, ...]]:
        """Note the keys of rows read (listing row id, ats, version, key); `share` makes
        them known to later units of work too, once this one commits."""
        pairs = [(row, key) for row, _, _, key in rows]
        self._keys.update(pairs)
        if share:
            self._ids.learn_ats_keys(pairs)
        return rows

    def available(self, skus: Iterable[Sku] | None) -> dict[Sku, dict[LocationCode, int]]:
        """Available units per item and location (only positive ones); all items if None."""
        found: dict[Sku, dict[LocationCode, int]] = {}
        if skus is None:
            rows = _AVAILABLE.rows(self._c, {})
        else:
            rows = _AVAILABLE_OF.rows(self._c, {"skus": bind_list(self._c, sorted(set(skus)))})
        for sku, code, units in rows:
            found.setdefault(Sku(sku), {})[LocationCode(code)] = units
        return found

    def stored_rows(self, listing_ids: Collection[int] | None) -> list[tuple[int, int, int]]:
        """(row id, ats, version) of listings; all if None, then in row id order."""
        wanted = None if listing_ids is None else set(listing_ids)
        ahead, self._ahead = self._ahead, None
        if ahead is not None and (wanted is None or not wanted <= ahead.covered):
            ahead.answer()  # not the read needed: its answer is read and dropped
            ahead = None
        if ahead is not None and wanted is not None:
            found = [r for r in self._remember(ahead.answer()) if r[0] in wanted]
        elif wanted is None or len(wanted) > _READ_ALL_ABOVE:
            found = _ALL_STORED.rows(self._c, {})  # its keys are kept for this one only
            found = self._remember(found, share=False)
            if wanted is not None:
                found = [r for r in found if r[0] in wanted]
        else:
            statement, params = self._read_of(wanted)
            found = self._remember(statement.rows(self._c, params))
        return [(row, ats, version) for row, ats, version, _ in found]

    def store(self, changes: Sequence[tuple[int, int, int]], *, at: datetime) -> None:
        """Store new ATS values, given as (listing row id, ats, new version); each bumps its
        listing's version by one (the new version given is that number). PostgreSQL writes
        them in row id order, so that concurrent recomputes never lock rows crosswise."""
        if not changes:
            return
        if self._ahead is not None:  # stale once written: read and dropped
            self._ahead.answer()
            self._ahead = None
        when = bind_datetime(self._c, at)
        if self._c.dialect.name != "postgresql":
            keys = self._keys
            missing = [row for row, _, _ in changes if row not in keys]
            if missing:
                self.stored_rows(missing)
            # in key order: the rows of one item, then the next, as they are kept
            by_key = sorted((keys[row], ats) for row, ats, _ in changes)
            _STORE.many(self._c, [(ats, when, key) for key, ats in by_key])
            return
        ordered = sorted(changes)
        for start in range(0, len(ordered), _ARRAY_SLICE):
            part = ordered[start : start + _ARRAY_SLICE]
            ids, values = [row for row, _, _ in part], [ats for _, ats, _ in part]
            _STORE_ARRAYS.write(self._c, {"at": when, "ids": ids, "ats": values})
