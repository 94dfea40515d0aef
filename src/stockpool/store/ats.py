"""Available stock per item for the ATS engine, and each listing's stored ATS and version."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection

from stockpool.domain.ids import LocationCode, Sku
from stockpool.store.driver import DriverStatement, bind_datetime, bind_list, list_statement

_READ_ALL_ABOVE = 20_000  # listings: above this many, one read of all beats a list of ids
# Bulk reads and writes of every listing run on the driver (see `driver`).
_ALL_STORED = DriverStatement("SELECT id, ats, ats_version FROM listings ORDER BY id")
_STORED_OF = list_statement(
    "SELECT id, ats, ats_version FROM listings WHERE id IN LIST(:ids) ORDER BY id"
)
_AVAILABLE_SQL = (
    "SELECT i.sku, l.code, s.available FROM stock_levels s "
    "JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id "
    "WHERE s.available > 0"
)
_AVAILABLE = DriverStatement(_AVAILABLE_SQL)
_AVAILABLE_OF = list_statement(f"{_AVAILABLE_SQL} AND i.sku IN LIST(:skus)")
_STORE = DriverStatement(
    "UPDATE listings SET ats = ?, ats_version = ats_version + 1, ats_at = ? WHERE id = ?"
)
# PostgreSQL pays a round trip per statement even when pipelined: there, the values go in
# two arrays, one statement per slice.
_STORE_ARRAYS = DriverStatement(
    "UPDATE listings SET ats = v.ats, ats_version = listings.ats_version + 1, ats_at = :at "
    "FROM unnest(CAST(:ids AS bigint[]), CAST(:ats AS bigint[])) AS v(id, ats) "
    "WHERE listings.id = v.id"
)
_ARRAY_SLICE = 50_000


class SqlAts:
    """ATS inputs and outputs on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

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
        """(row id, ats, version) of listings in row id order; all if None."""
        wanted = None if listing_ids is None else set(listing_ids)
        if wanted is None or len(wanted) > _READ_ALL_ABOVE:
            every = _ALL_STORED.rows(self._c, {})
            return every if wanted is None else [r for r in every if r[0] in wanted]
        return _STORED_OF.rows(self._c, {"ids": bind_list(self._c, sorted(wanted))})

    def store(self, changes: Sequence[tuple[int, int, int]], *, at: datetime) -> None:
        """Store new ATS values, given as (listing row id, ats, new version) in row id order;
        each bumps its listing's version by one (the new version given is that number)."""
        if not changes:
            return
        when = bind_datetime(self._c, at)
        if self._c.dialect.name != "postgresql":
            _STORE.many(self._c, [(ats, when, row) for row, ats, _ in changes])
            return
        for start in range(0, len(changes), _ARRAY_SLICE):
            part = changes[start : start + _ARRAY_SLICE]
            ids, values = [row for row, _, _ in part], [ats for _, ats, _ in part]
            _STORE_ARRAYS.write(self._c, {"at": when, "ids": ids, "ats": values})
