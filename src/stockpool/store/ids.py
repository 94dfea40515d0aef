"""Resolution of SKUs, location and channel codes to the store's integer keys.

Keys never change and rows are never deleted, so resolved keys are cached for the life of
the engine. A key first seen inside a transaction joins the shared cache only when that
transaction commits: after a rollback SQLite may hand the same key to another row.
"""

from __future__ import annotations

from threading import Lock

from sqlalchemy import Connection, select

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
        self.lock = Lock()


class IdMap:
    """Key lookups for one unit of work."""

    def __init__(self, connection: Connection, cache: IdCache) -> None:
        self._c = connection
        self._cache = cache
        self._items: dict[str, int] = {}
        self._locations: dict[str, int] = {}
        self._channels: dict[str, int] = {}

    def item(self, sku: Sku) -> int:
        """The key of an item, or NotFound."""
        key = self._cache.items.get(sku) or self._items.get(sku)
        if key is None:
            key = self._c.execute(select(items.c.id).where(items.c.sku == sku)).scalar()
            if key is None:
                raise NotFound(f"unknown SKU {sku!r}: add it with `stockpool item add`")
            self._items[sku] = key
        return key

    def location(self, code: LocationCode) -> int:
        """The key of a location, or NotFound."""
        key = self._cache.locations.get(code) or self._locations.get(code)
        if key is None:
            key = self._c.execute(select(locations.c.id).where(locations.c.code == code)).scalar()
            if key is None:
                raise NotFound(f"unknown location {code!r}: add it with `stockpool location add`")
            self._locations[code] = key
        return key

    def channel(self, code: ChannelCode) -> int:
        """The key of a channel, or NotFound."""
        key = self._cache.channels.get(code) or self._channels.get(code)
        if key is None:
            key = self._c.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
            if key is None:
                raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
            self._channels[code] = key
        return key

    def publish(self) -> None:
        """After commit: share the keys this unit of work resolved."""
        with self._cache.lock:
            self._cache.items.update(self._items)
            self._cache.locations.update(self._locations)
            self._cache.channels.update(self._channels)
