"""Channel synchronisation on one connection: connections, mappings, the outbox, the log.

The outbox holds one row per listing whose newest value the channel has not acknowledged;
a newer value overwrites it (only ever with a higher version), so pushes coalesce by
construction. Dispatchers claim due rows by leasing them; on PostgreSQL the claim skips
rows another dispatcher holds (`FOR UPDATE SKIP LOCKED`). A result is recorded only by the
lease's owner, and a row whose value changed meanwhile stays for the next push.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from stockpool.domain.errors import NotFound
from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.services.ports import ChannelConnection, SyncHealth, SyncState, SyncTask
from stockpool.store.allocation_tables import channel_locations, channels, listings
from stockpool.store.order_tables import order_lines, orders
from stockpool.store.sync_tables import (
    channel_connections,
    sync_drift,
    sync_listings,
    sync_log,
    sync_outbox,
)
from stockpool.store.tables import locations

_CHUNK = 900


class SqlSync:
    """Synchronisation state inside a unit of work."""

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

    # -- the outbox ----------------------------------------------------------------------

    def _pushable_channels(self) -> set[int]:
        """Connected channels with an eligible location that is not channel-held (or none)."""
        connected = set(self._c.execute(select(channel_connections.c.channel_id)).scalars())
        held_only = set()
        kinds = self._c.execute(
            select(channel_locations.c.channel_id, locations.c.kind).join(
                locations, locations.c.id == channel_locations.c.location_id
            )
        )
        by_channel: dict[int, set[str]] = {}
        for channel_id, kind in kinds:
            by_channel.setdefault(channel_id, set()).add(kind)
        held_only = {c for c, k in by_channel.items() if k == {"channel_held"}}
        return connected - held_only

    def enqueue(self, changes: Mapping[int, tuple[int, int]], *, at: datetime) -> None:
        """Write the new (ATS, version) of mapped, pushable listings to the outbox."""
        if not changes:
            return
        rows = sorted(changes)
        mapped: dict[int, int] = {}
        every = select(sync_listings.c.listing_row_id, sync_listings.c.channel_id)
        if len(rows) > 4 * _CHUNK:  # a large recompute: one read of every mapping is cheaper
            mapped = {r: c for r, c in self._c.execute(every) if r in changes}
        for start in range(0, len(rows), _CHUNK) if len(rows) <= 4 * _CHUNK else ():
            part = rows[start : start + _CHUNK]
            query = every.where(sync_listings.c.listing_row_id.in_(part))
            mapped.update({r: c for r, c in self._c.execute(query)})
        if not mapped:
            return
        pushable = self._pushable_channels()
        values = [
            {
                "row": row,
                "channel": mapped[row],
                "desired": changes[row][0],
                "version": changes[row][1],
            }
            for row in rows
            if mapped.get(row) in pushable
        ]
        self._upsert(values, at)

    def _upsert(self, values: list[dict[str, int]], at: datetime) -> None:
        if not values:
            return
        stmt = self._insert(sync_outbox)
        stmt = stmt.on_conflict_do_update(
            index_elements=[sync_outbox.c.listing_row_id],
            set_={
                "desired": stmt.excluded.desired,
                "version": stmt.excluded.version,
                "changed_at": stmt.excluded.changed_at,
            },
            where=sync_outbox.c.version < stmt.excluded.version,
        )
        self._c.execute(
            stmt,
            [
                {
                    "listing_row_id": v["row"],
                    "channel_id": v["channel"],
                    "desired": v["desired"],
                    "version": v["version"],
                    "first_changed_at": at,
                    "changed_at": at,
                    "next_attempt_at": at,
                    "attempts": 0,
                }
                for v in values
            ],
        )

    def enqueue_current(
        self, channel: ChannelCode, rows: Collection[int] | None, *, at: datetime
    ) -> int:
        """Queue the stored ATS of a channel's mapped listings (all, or `rows`)."""
        channel_id = self._channel_id(channel)
        if channel_id not in self._pushable_channels():
            return 0
        query = (
            select(listings.c.id, listings.c.ats, listings.c.ats_version)
            .join(sync_listings, sync_listings.c.listing_row_id == listings.c.id)
            .where(sync_listings.c.channel_id == channel_id)
        )
        if rows is not None:
            query = query.where(listings.c.id.in_(sorted(rows)))
        found = [
            {"row": r, "channel": channel_id, "desired": a, "version": v}
            for r, a, v in self._c.execute(query.order_by(listings.c.id))
        ]
        self._upsert(found, at)
        return len(found)

    def candidates(self, channel: ChannelCode, *, now: datetime, limit: int) -> list[SyncTask]:
        """Due, unleased outbox rows: listings going to zero first, then the smallest."""
        o, m = sync_outbox, sync_listings
        going_to_zero = case(
            (and_(o.c.desired == 0, func.coalesce(m.c.pushed_quantity, 1) > 0), 0), else_=1
        )
        query = (
            select(
                o.c.listing_row_id,
                listings.c.listing_id,
                m.c.remote_item,
                m.c.remote_location,
                o.c.desired,
                o.c.version,
                o.c.first_changed_at,
                m.c.channel_quantity,
                m.c.pushed_quantity,
                o.c.attempts,
            )
            .join(m, m.c.listing_row_id == o.c.listing_row_id)
            .join(listings, listings.c.id == o.c.listing_row_id)
            .where(o.c.channel_id == self._channel_id(channel), o.c.next_attempt_at <= now)
            .where(or_(o.c.lease_until.is_(None), o.c.lease_until < now))
            .order_by(going_to_zero, o.c.desired, o.c.listing_row_id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update(of=o, skip_locked=True)
        return [
            SyncTask(r[0], ListingId(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9])
            for r in self._c.execute(query)
        ]

    def lease(self, rows: Collection[int], *, owner: str, until: datetime) -> None:
        """Lease outbox rows to a dispatcher until `until`."""
        for start in range(0, len(rows), _CHUNK):
            part = sorted(rows)[start : start + _CHUNK]
            self._c.execute(
                update(sync_outbox)
                .where(sync_outbox.c.listing_row_id.in_(part))
                .values(lease_owner=owner, lease_until=until)
            )

    def set_channel_quantity(self, quantities: Mapping[int, int | None]) -> None:
        """Record what the channel holds (None: unknown, read it before the next push)."""
        for row, quantity in sorted(quantities.items()):
            self._c.execute(
                update(sync_listings)
                .where(sync_listings.c.listing_row_id == row)
                .values(channel_quantity=quantity)
            )

    def acknowledge(
        self, task: SyncTask, *, quantity: int, response_id: str | None, owner: str, at: datetime
    ) -> None:
        """Record a push the channel acknowledged; drop its outbox row unless a newer value
        arrived meanwhile."""
        self._c.execute(
            update(sync_listings)
            .where(sync_listings.c.listing_row_id == task.row_id)
            .values(
                channel_quantity=quantity,
                pushed_quantity=quantity,
                pushed_version=task.version,
                pushed_at=at,
                response_id=response_id,
            )
        )
        lag = max(0, int((at - task.first_changed_at).total_seconds() * 1000))
        self._log(
            task.row_id,
            "ack",
            at,
            quantity=quantity,
            version=task.version,
            response_id=response_id,
            lag_ms=lag,
        )
        mine = and_(sync_outbox.c.listing_row_id == task.row_id, sync_outbox.c.lease_owner == owner)
        gone = self._c.execute(
            delete(sync_outbox).where(mine, sync_outbox.c.version == task.version)
        )
        if gone.rowcount == 0:
            self._c.execute(
                update(sync_outbox)
                .where(mine)
                .values(
                    lease_owner=None,
                    lease_until=None,
                    attempts=0,
                    last_error=None,
                    first_changed_at=sync_outbox.c.changed_at,
                )
            )

    def release(
        self,
        task: SyncTask,
        *,
        owner: str,
        next_attempt_at: datetime,
        outcome: str | None,
        error: str | None,
        at: datetime,
    ) -> None:
        """Give a row back for another attempt at `next_attempt_at`, logging a failure."""
        mine = and_(sync_outbox.c.listing_row_id == task.row_id, sync_outbox.c.lease_owner == owner)
        failed = outcome is not None
        self._c.execute(
            update(sync_outbox)
            .where(mine)
            .values(
                lease_owner=None,
                lease_until=None,
                next_attempt_at=next_attempt_at,
                attempts=sync_outbox.c.attempts + (1 if failed else 0),
                last_error=error if failed else sync_outbox.c.last_error,
            )
        )
        if outcome is not None:
            self._log(
                task.row_id, outcome, at, quantity=task.desired, version=task.version, message=error
            )

    def _log(self, row: int, outcome: str, at: datetime, **values: Any) -> None:
        channel = select(sync_listings.c.channel_id).where(sync_listings.c.listing_row_id == row)
        self._c.execute(
            insert(sync_log).values(
                channel_id=channel.scalar_subquery(),
                listing_row_id=row,
                outcome=outcome,
                at=at,
                **values,
            )
        )

    # -- connections and mappings --------------------------------------------------------

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
                listings.c.ats,
                m.c.pushed_quantity,
                m.c.pushed_at,
                sync_outbox.c.listing_row_id.is_not(None),
            )
            .join(listings, listings.c.id == m.c.listing_row_id)
            .outerjoin(sync_outbox, sync_outbox.c.listing_row_id == m.c.listing_row_id)
            .where(m.c.channel_id == self._channel_id(channel))
            .order_by(listings.c.listing_id)
        )
        return [
            SyncState(r[0], ListingId(r[1]), r[2], r[3], r[4], r[5], r[6], bool(r[7]))
            for r in self._c.execute(query)
        ]

    # -- orders, drift and health --------------------------------------------------------

    def _units(self, channel: ChannelCode, since: datetime, net: bool) -> Any:
        sold = order_lines.c.quantity - order_lines.c.cancelled if net else order_lines.c.quantity
        return (
            select(order_lines.c.listing_id, func.sum(sold))
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(orders.c.channel_id == self._channel_id(channel), orders.c.created_at > since)
            .group_by(order_lines.c.listing_id)
        )

    def velocity(self, channel: ChannelCode, *, since: datetime) -> dict[ListingId, int]:
        """Units ordered per listing of a channel since `since`."""
        found = self._c.execute(self._units(channel, since, net=False))
        return {ListingId(listing): int(units) for listing, units in found}

    def units_since(
        self, channel: ChannelCode, listings_: Collection[ListingId], since: datetime
    ) -> dict[ListingId, int]:
        """Units of the channel's orders recorded after `since`, net of cancellations."""
        query = self._units(channel, since, net=True).where(
            order_lines.c.listing_id.in_(sorted(listings_))
        )
        return {ListingId(listing): int(units) for listing, units in self._c.execute(query)}

    def save_drift(
        self, row_id: int, *, expected: int, actual: int, cause: str, at: datetime
    ) -> datetime:
        """Record drift of a listing; returns when it was first seen."""
        channel = self._c.execute(
            select(sync_listings.c.channel_id).where(sync_listings.c.listing_row_id == row_id)
        ).scalar_one()
        values = {"expected": expected, "actual": actual, "cause": cause, "last_seen_at": at}
        stmt = self._insert(sync_drift).values(
            listing_row_id=row_id, channel_id=channel, first_seen_at=at, **values
        )
        self._c.execute(
            stmt.on_conflict_do_update(index_elements=[sync_drift.c.listing_row_id], set_=values)
        )
        first = self._c.execute(
            select(sync_drift.c.first_seen_at).where(sync_drift.c.listing_row_id == row_id)
        ).scalar_one()
        return first  # type: ignore[no-any-return]

    def clear_drift(self, rows: Collection[int]) -> None:
        """Forget drift of listings that match again."""
        for start in range(0, len(rows), _CHUNK):
            part = sorted(rows)[start : start + _CHUNK]
            self._c.execute(delete(sync_drift).where(sync_drift.c.listing_row_id.in_(part)))

    def health(self, channel: ChannelCode, *, since: datetime) -> SyncHealth:
        """Lags of acknowledgements since `since`, queue, failures and drift of a channel."""
        cid = self._channel_id(channel)
        recent = and_(sync_log.c.channel_id == cid, sync_log.c.at >= since)
        lags = [
            int(x)
            for x in self._c.execute(
                select(sync_log.c.lag_ms).where(recent, sync_log.c.outcome == "ack")
            ).scalars()
        ]

        def count(query: Any) -> int:
            return int(self._c.execute(query).scalar() or 0)

        outbox = (
            select(func.count()).select_from(sync_outbox).where(sync_outbox.c.channel_id == cid)
        )
        return SyncHealth(
            channel=channel,
            lags_ms=sorted(lags),
            queue_depth=count(outbox),
            failures=count(select(func.count()).where(recent, sync_log.c.outcome != "ack")),
            failing_now=count(outbox.where(sync_outbox.c.attempts > 0)),
            last_success=self._c.execute(
                select(func.max(sync_log.c.at)).where(
                    sync_log.c.channel_id == cid, sync_log.c.outcome == "ack"
                )
            ).scalar(),
            drift=count(
                select(func.count()).select_from(sync_drift).where(sync_drift.c.channel_id == cid)
            ),
        )
