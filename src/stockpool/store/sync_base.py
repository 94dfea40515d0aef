"""What every part of the sync repository shares: its connection, the dialect's upsert, and
channel ids by code."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from stockpool.domain.errors import NotFound
from stockpool.domain.ids import ChannelCode
from stockpool.store.allocation_tables import channels

CHUNK = 900  # stay under SQLite's bound-parameter limit


class SyncStoreBase:
    """Synchronisation state inside a unit of work: the parts' common ground."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def _insert(self, table: Any) -> Any:
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        return dialect.insert(table)

    def _channel_id(self, code: ChannelCode) -> int:
        found = self._c.execute(select(channels.c.id).where(channels.c.code == code)).scalar()
        if found is None:
            raise NotFound(f"unknown channel {code!r}: add it with `stockpool channel add`")
        return int(found)
