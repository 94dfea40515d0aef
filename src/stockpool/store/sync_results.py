"""What became of pushes: acknowledgements and failures (the sync log), what each channel
holds as far as we know, drift found by reconciliation, and sync health.

A result is recorded only by the lease's owner, and a row whose value changed meanwhile
stays in the outbox for the next push.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, delete, func, insert, select, update

from stockpool.domain.ids import ChannelCode, ListingId
from stockpool.services.ports import SyncHealth, SyncTask
from stockpool.store.order_tables import order_lines, orders
from stockpool.store.sync_base import CHUNK, SyncStoreBase
from stockpool.store.sync_tables import sync_drift, sync_listings, sync_log, sync_outbox


def _leased(task: SyncTask, owner: str) -> ColumnElement[bool]:
    """The outbox row of `task`, while `owner` holds its lease."""
    return and_(sync_outbox.c.listing_row_id == task.row_id, sync_outbox.c.lease_owner == owner)


class SqlSyncResults(SyncStoreBase):
    """Recording pushes' outcomes, drift, and reading health."""

    def set_channel_quantity(self, quantities: Mapping[int, int | None]) -> None:
        """Record what the channel holds (None: unknown, read it before the next push)."""
        if not quantities:
            return
        self._c.execute(
            update(sync_listings)
            .where(sync_listings.c.listing_row_id == bindparam("row"))
            .values(channel_quantity=bindparam("quantity")),
            [{"row": row, "quantity": q} for row, q in sorted(quantities.items())],
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
        self._settle(task, owner)

    def _settle(self, task: SyncTask, owner: str) -> None:
        """Drop an acknowledged row, or give it back if a newer value arrived meanwhile."""
        mine = _leased(task, owner)
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
        mine = _leased(task, owner)
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

    # -- the channel's orders, drift ---------------------------------------------------

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

    def units_since_each(
        self, channel: ChannelCode, since: Mapping[ListingId, datetime]
    ) -> dict[ListingId, int]:
        """Per listing, units of the channel's orders recorded after its own moment, net of
        cancellations: one read for all of them."""
        if not since:
            return {}
        sold = order_lines.c.quantity - order_lines.c.cancelled
        query = (
            select(order_lines.c.listing_id, orders.c.created_at, sold)
            .join(orders, orders.c.id == order_lines.c.order_id)
            .where(
                orders.c.channel_id == self._channel_id(channel),
                orders.c.created_at > min(since.values()),
            )
        )
        found: dict[ListingId, int] = {}
        for listing, created_at, units in self._c.execute(query):
            moment = since.get(ListingId(listing))
            if moment is not None and created_at > moment:
                found[ListingId(listing)] = found.get(ListingId(listing), 0) + int(units)
        return found

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
        ordered = sorted(rows)
        for start in range(0, len(ordered), CHUNK):
            part = ordered[start : start + CHUNK]
            self._c.execute(delete(sync_drift).where(sync_drift.c.listing_row_id.in_(part)))

    # -- health --------------------------------------------------------------------------

    def _count(self, query: Any) -> int:
        return int(self._c.execute(query).scalar() or 0)

    def health(self, channel: ChannelCode, *, since: datetime) -> SyncHealth:
        """Lags of acknowledgements since `since`, queue, failures and drift of a channel."""
        cid = self._channel_id(channel)
        recent = and_(sync_log.c.channel_id == cid, sync_log.c.at >= since)
        acks = select(sync_log.c.lag_ms).where(recent, sync_log.c.outcome == "ack")
        outbox = (
            select(func.count()).select_from(sync_outbox).where(sync_outbox.c.channel_id == cid)
        )
        last_ack = select(func.max(sync_log.c.at)).where(
            sync_log.c.channel_id == cid, sync_log.c.outcome == "ack"
        )
        drift = select(func.count()).select_from(sync_drift).where(sync_drift.c.channel_id == cid)
        return SyncHealth(
            channel=channel,
            lags_ms=sorted(int(x) for x in self._c.execute(acks).scalars()),
            queue_depth=self._count(outbox),
            failures=self._count(select(func.count()).where(recent, sync_log.c.outcome != "ack")),
            failing_now=self._count(outbox.where(sync_outbox.c.attempts > 0)),
            last_success=self._c.execute(last_ack).scalar(),
            drift=self._count(drift),
        )
