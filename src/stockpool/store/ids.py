"""Resolution of SKUs, location and channel codes to the store's integer keys.

Keys never change and rows are never deleted, so resolved keys are cached for the life of
the engine. A key first seen inside a transaction joins the shared cache only when that
transaction commits: after a rollback SQLite may hand the same key to another row.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from threading import Lock
from typing import Any

from sqlalchemy import Column, Connection, select

from stockpool.domain.errors import NotFound
from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.store.allocation_tables import channels
from stockpool.store.tables import items, locations


class IdCache:
    """Keys known to be committed, shared by every unit of work of one engine."""

    def __init__(self) -> None:
        self.items: dict[str, int] = {}
        self.locations: dict[str, int] = {}
        self.channels: dict[str, int] = {}
        self.ats_keys: dict[int, int] = {}  # listing row id -> its key in `listing_ats`
        self.lock = Lock()


class IdMap:
    """Key lookups for one unit of work."""

    def __init__(self, connection: Connection, cache: IdCache) -> None:
        self._c = connection
        self._cache = cache
        self._items: dict[str, int] = {}
        self._locations: dict[str, int] = {}
        self._channels: dict[str, int] = {}
        self._ats_keys: dict[int, int] = {}

    def item(self, sku: Sku) -> int:
        """The key of an item, or NotFound."""
        found = self._cache.items.get(sku) or self._items.get(sku)
        return found or self._look_up(items.c.sku, sku, self._items, "SKU", "item add")

    def location(self, code: LocationCode) -> int:
        """The key of a location, or NotFound."""
        found = self._cache.locations.get(code) or self._locations.get(code)
        return found or self._look_up(
            locations.c.code, code, self._locations, "location", "location add"
        )

    def channel(self, code: ChannelCode) -> int:
        """The key of a channel, or NotFound."""
        found = self._cache.channels.get(code) or self._channels.get(code)
        return found or self._look_up(
            channels.c.code, code, self._channels, "channel", "channel add"
        )

    def learn(self, found_items: dict[str, int], found_locations: dict[str, int]) -> None:
        """Keys read along with other rows (saving a lookup each later)."""
        self._items.update(found_items)
        self._locations.update(found_locations)

    def ats_keys(self, rows: Collection[int]) -> dict[int, int] | None:
        """The keys in `listing_ats` of these listings, if every one is known."""
        shared = self._cache.ats_keys
        try:
            return {row: shared[row] for row in rows}
        except KeyError:  # some were learned in this unit of work, or not yet at all
            mine, found = self._ats_keys, {}
            for row in rows:
                key = shared.get(row, mine.get(row))
                if key is None:
                    return None
                found[row] = key
            return found

    def learn_ats_keys(self, found: Iterable[tuple[int, int]]) -> None:
        """(listing row id, key in `listing_ats`), read along with stored ATS values."""
        self._ats_keys.update(found)

    def _look_up(
        self, column: Column[Any], code: str, seen: dict[str, int], what: str, command: str
    ) -> int:
        """The key of the row whose `column` is `code`, remembered in `seen`; or NotFound."""
        key = self._c.execute(select(column.table.c.id).where(column == code)).scalar()
        if key is None:
            raise NotFound(f"unknown {what} {code!r}: add it with `stockpool {command}`")
        seen[code] = key
        return int(key)

    def publish(self) -> None:
        """After commit: share the keys this unit of work resolved."""
        with self._cache.lock:
            self._cache.items.update(self._items)
            self._cache.locations.update(self._locations)
            self._cache.channels.update(self._channels)
            self._cache.ats_keys.update(self._ats_keys)
