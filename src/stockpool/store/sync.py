"""Channel synchronisation on one connection: connections, mappings, the outbox, the log.

`SqlSync` is the whole sync repository of a unit of work. Its parts: connections and
listing mappings (here), the outbox (`sync_outbox`: writing, claiming and leasing rows),
and what became of pushes (`sync_results`: acknowledgements, failures, drift, health).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update

from stockpool.domain.errors import NotFound
from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.services.ports import ChannelConnection, SyncState
from stockpool.store.allocation_tables import channels, listing_ats, listings
from stockpool.store.sync_outbox import SqlOutbox
from stockpool.store.sync_results import SqlSyncResults
from stockpool.store.sync_tables import (
    channel_connections,
    sync_drift,
    sync_listings,
    sync_outbox,
)

__all__ = ["SqlSync"]


class SqlSync(SqlOutbox, SqlSyncResults):
    """Synchronisation state inside a unit of work."""

    # -- connections -----------------------------------------------------------------------

    def save_connection(self, connection: ChannelConnection, *, at: datetime) -> None:
        """Create or replace a channel's connection."""
        channel_id = self._channel_id(connection.channel)
        values = {
            "shop": connection.shop,
            "base_url": connection.base_url,
            "token": connection.token,
            "secrets": list(connection.secrets),
            "heal": connection.heal,
            "updated_at": at,
        }
        stmt = self._insert(channel_connections).values(
            channel_id=channel_id, created_at=at, orders_cursor=connection.orders_cursor, **values
        )
        self._c.execute(
            stmt.on_conflict_do_update(
                index_elements=[channel_connections.c.channel_id], set_=values
            )
        )

    def _connections(self, *where: Any) -> list[ChannelConnection]:
        cc = channel_connections
        query = (
            select(
                channels.c.code,
                channels.c.kind,
                cc.c.shop,
                cc.c.base_url,
                cc.c.token,
                cc.c.secrets,
                cc.c.heal,
                cc.c.orders_cursor,
            )
            .join(channels, channels.c.id == cc.c.channel_id)
            .where(*where)
            .order_by(channels.c.code)
        )
        return [
            ChannelConnection(ChannelCode(r[0]), r[1], r[2], r[3], r[4], tuple(r[5]), r[6], r[7])
            for r in self._c.execute(query)
        ]

    def disconnect(self, channel: ChannelCode) -> bool:
        """Forget a channel's connection, listing mappings, pending pushes and drift (the
        log of past pushes stays); whether there was a connection."""
        channel_id = self._channel_id(channel)
        for table in (sync_outbox, sync_drift, sync_listings):
            self._c.execute(delete(table).where(table.c.channel_id == channel_id))
        gone = self._c.execute(
            delete(channel_connections).where(channel_connections.c.channel_id == channel_id)
        )
        return bool(gone.rowcount)

    def connection(self, channel: ChannelCode) -> ChannelConnection | None:
        """A channel's connection, if it has one."""
        found = self._connections(channels.c.code == channel)
        return found[0] if found else None

    def connections(self) -> list[ChannelConnection]:
        """Every connection, by channel code."""
        return self._connections()

    def set_orders_cursor(self, channel: ChannelCode, cursor: datetime) -> None:
        """Move a channel's order-poll cursor forward (never back)."""
        cc = channel_connections
        self._c.execute(
            update(cc)
            .where(cc.c.channel_id == self._channel_id(channel))
            .where(or_(cc.c.orders_cursor.is_(None), cc.c.orders_cursor < cursor))
            .values(orders_cursor=cursor)
        )

    # -- mappings --------------------------------------------------------------------------

    def map_listing(
        self, channel: ChannelCode, listing: ListingId, *, item: str, location: str
    ) -> int:
        """Map a listing to its channel item and location; its channel quantity is unknown."""
        channel_id = self._channel_id(channel)
        row = self._c.execute(
            select(listings.c.id).where(
                listings.c.channel_id == channel_id, listings.c.listing_id == listing
            )
        ).scalar()
        if row is None:
            raise NotFound(f"channel {channel} has no listing {listing!r}")
        values = {
            "channel_id": channel_id,
            "remote_item": item,
            "remote_location": location,
            "channel_quantity": None,
        }
        stmt = self._insert(sync_listings).values(listing_row_id=row, **values)
        self._c.execute(
            stmt.on_conflict_do_update(index_elements=[sync_listings.c.listing_row_id], set_=values)
        )
        return int(row)

    def listings_by_item(self, channel: ChannelCode) -> dict[str, ListingId]:
        """The listing of each channel item id."""
        query = (
            select(sync_listings.c.remote_item, listings.c.listing_id)
            .join(listings, listings.c.id == sync_listings.c.listing_row_id)
            .where(sync_listings.c.channel_id == self._channel_id(channel))
            .order_by(listings.c.id.desc())
        )
        return {item: ListingId(listing) for item, listing in self._c.execute(query)}

    def states(self, channel: ChannelCode) -> list[SyncState]:
        """Every mapped listing of a channel with its stored ATS and last push."""
        m = sync_listings
        query = (
            select(
                m.c.listing_row_id,
                listings.c.listing_id,
                m.c.remote_item,
                m.c.remote_location,
                listing_ats.c.ats,
                m.c.pushed_quantity,
                m.c.pushed_at,
                sync_outbox.c.listing_row_id.is_not(None),
            )
            .join(listings, listings.c.id == m.c.listing_row_id)
            .join(listing_ats, listing_ats.c.listing_row_id == m.c.listing_row_id)
            .outerjoin(sync_outbox, sync_outbox.c.listing_row_id == m.c.listing_row_id)
            .where(m.c.channel_id == self._channel_id(channel))
            .order_by(listings.c.listing_id)
        )
        return [
            SyncState(r[0], ListingId(r[1]), r[2], r[3], r[4], r[5], r[6], bool(r[7]))
            for r in self._c.execute(query)
        ]
