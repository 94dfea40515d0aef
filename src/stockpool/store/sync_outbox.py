"""The outbox: one row per listing whose newest value its channel has not acknowledged.

A newer value overwrites the row (only ever with a higher version), so pushes coalesce by
construction. Dispatchers claim due rows by leasing them; on PostgreSQL the claim skips
rows another dispatcher holds (`FOR UPDATE SKIP LOCKED`). What became of a push is
recorded by `sync_results`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select, update

from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.services.ports import SyncTask
from stockpool.store.allocation_tables import channel_locations, listing_ats, listings
from stockpool.store.driver import DriverStatement, bind_datetime, bind_list, list_statement
from stockpool.store.sync_base import CHUNK, SyncStoreBase
from stockpool.store.sync_tables import channel_connections, sync_listings, sync_outbox
from stockpool.store.tables import locations

_MAPPED_OF = list_statement(
    "SELECT listing_row_id, channel_id FROM sync_listings WHERE listing_row_id IN LIST(:rows)"
)

# PostgreSQL: the outbox rows of changed values in one statement that reads nothing back (it
# can travel in a pipeline): mapped listings of connected channels that are not fed by
# channel-held locations only (see `SqlOutbox._pushable_channels`).
_ENQUEUE_POSTGRES = DriverStatement(
    "INSERT INTO sync_outbox (listing_row_id, channel_id, desired, version, first_changed_at, "
    "changed_at, next_attempt_at, attempts) "
    "SELECT v.row_id, m.channel_id, v.desired, v.version, :at, :at, :at, 0 FROM unnest("
    "CAST(:rows AS bigint[]), CAST(:desired AS bigint[]), CAST(:versions AS bigint[])) "
    "AS v(row_id, desired, version) "
    "JOIN sync_listings m ON m.listing_row_id = v.row_id "
    "WHERE m.channel_id IN (SELECT channel_id FROM channel_connections) "
    "AND (EXISTS (SELECT 1 FROM channel_locations cl JOIN locations l ON l.id = cl.location_id "
    "WHERE cl.channel_id = m.channel_id AND l.kind <> 'channel_held') "
    "OR NOT EXISTS (SELECT 1 FROM channel_locations cl WHERE cl.channel_id = m.channel_id)) "
    "ORDER BY v.row_id "
    "ON CONFLICT (listing_row_id) DO UPDATE SET desired = excluded.desired, "
    "version = excluded.version, changed_at = excluded.changed_at "
    "WHERE sync_outbox.version < excluded.version"
)


class SqlOutbox(SyncStoreBase):
    """Writing, claiming and leasing outbox rows."""

    def _pushable_channels(self) -> set[int]:
        """Connected channels with an eligible location that is not channel-held (or none)."""
        connected = set(self._c.execute(select(channel_connections.c.channel_id)).scalars())
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

    def _mapped(self, rows: list[int]) -> dict[int, int]:
        """The channel of each listing row mapped to a channel item: of all of `rows`, and
        maybe of others."""
        if len(rows) > 4 * CHUNK:  # a large recompute: one read of every mapping is cheaper
            every = select(sync_listings.c.listing_row_id, sync_listings.c.channel_id)
            return {r: c for r, c in self._c.execute(every)}
        found = _MAPPED_OF.rows(self._c, {"rows": bind_list(self._c, rows)})
        return {r: c for r, c in found}

    def enqueue(self, changes: Sequence[tuple[int, int, int]], *, at: datetime) -> None:
        """Write each new (listing row, ATS, version) of a mapped, pushable listing to the
        outbox."""
        if not changes:
            return
        if self._c.dialect.name == "postgresql":
            ordered = sorted(changes)
            params = {
                "at": bind_datetime(self._c, at),
                "rows": [row for row, _, _ in ordered],
                "desired": [ats for _, ats, _ in ordered],
                "versions": [version for _, _, version in ordered],
            }
            _ENQUEUE_POSTGRES.write(self._c, params)
            return
        mapped = self._mapped([row for row, _, _ in changes])
        if not mapped:
            return
        pushable = self._pushable_channels()
        values = [
            {"row": row, "channel": mapped[row], "desired": ats, "version": version}
            for row, ats, version in sorted(changes)
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
            select(listing_ats.c.listing_row_id, listing_ats.c.ats, listing_ats.c.ats_version)
            .join(sync_listings, sync_listings.c.listing_row_id == listing_ats.c.listing_row_id)
            .where(sync_listings.c.channel_id == channel_id)
        )
        if rows is not None:
            query = query.where(listing_ats.c.listing_row_id.in_(sorted(rows)))
        found = [
            {"row": r, "channel": channel_id, "desired": a, "version": v}
            for r, a, v in self._c.execute(query.order_by(listing_ats.c.listing_row_id))
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
        ordered = sorted(rows)
        for start in range(0, len(ordered), CHUNK):
            self._c.execute(
                update(sync_outbox)
                .where(sync_outbox.c.listing_row_id.in_(ordered[start : start + CHUNK]))
                .values(lease_owner=owner, lease_until=until)
            )
