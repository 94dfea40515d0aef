"""The event feed, channel webhooks as delivered, and outgoing webhook subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from stockpool.domain.errors import NotFound
from stockpool.domain.events import (
    DeliveryStatus,
    Event,
    InboundDelivery,
    NewEvent,
    OutboundDelivery,
    Subscription,
)
from stockpool.services.ports import Page
from stockpool.store.api_tables import (
    events,
    webhook_deliveries,
    webhook_out_deliveries,
    webhook_subscriptions,
)
from stockpool.store.driver import BulkInsert, bind_datetime

# Events are appended by every stock-changing transaction: straight on the driver.
_APPEND = BulkInsert(
    "events",
    [
        ("type", "text"),
        ("item", "text"),
        ("channel", "text"),
        ("payload", "json"),
        ("created_at", "timestamptz"),
    ],
)


def _event(row: Row[Any]) -> Event:
    return Event(row.id, row.type, row.item, row.channel, row.payload, row.created_at)


def _subscription(row: Row[Any]) -> Subscription:
    return Subscription(
        id=row.id,
        url=row.url,
        event_types=tuple(row.event_types),
        secret=row.secret,
        description=row.description,
        cursor=row.cursor,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def _outbound(row: Row[Any]) -> OutboundDelivery:
    return OutboundDelivery(
        id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        response_status=row.response_status,
        error=row.error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
    )


def _inbound(row: Row[Any]) -> InboundDelivery:
    return InboundDelivery(
        id=row.id,
        channel=row.channel,
        dedupe_key=row.dedupe_key,
        headers=dict(row.headers),
        body=bytes(row.body),
        received_at=row.received_at,
        processed_at=row.processed_at,
        attempts=row.attempts,
        error=row.error,
    )


class SqlEvents:
    """Events and webhooks on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def append(self, new: Sequence[NewEvent], *, at: datetime) -> None:
        """Record events in this transaction."""
        when = bind_datetime(self._c, at)
        rows = [
            (
                event.type.value,
                event.item,
                event.channel,
                event.payload_text(),
                when,
            )
            for event in new
        ]
        _APPEND.insert(self._c, rows)

    def after(
        self,
        after_id: int,
        *,
        limit: int,
        item: str | None = None,
        channel: str | None = None,
        types: Collection[str] | None = None,
    ) -> list[Event]:
        """Events with an id above `after_id`, oldest first."""
        query = select(events).where(events.c.id > after_id).order_by(events.c.id).limit(limit)
        if item is not None:
            query = query.where(events.c.item == item)
        if channel is not None:
            query = query.where(events.c.channel == channel)
        if types is not None:
            query = query.where(events.c.type.in_(sorted(types)))
        return [_event(r) for r in self._c.execute(query)]

    def last_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        return int(self._c.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())

    def get_event(self, event_id: int) -> Event:
        """One event."""
        row = self._c.execute(select(events).where(events.c.id == event_id)).first()
        if row is None:
            raise NotFound(f"unknown event {event_id}")
        return _event(row)

    def store_inbound(
        self,
        channel: str,
        dedupe_key: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        at: datetime,
    ) -> tuple[int, bool]:
        """Store a channel webhook; (its id, whether it had been delivered before)."""
        where = and_(
            webhook_deliveries.c.channel == channel, webhook_deliveries.c.dedupe_key == dedupe_key
        )
        found = self._c.execute(select(webhook_deliveries.c.id).where(where)).scalar()
        if found is not None:
            return int(found), True
        try:
            with self._c.begin_nested():
                new_id = self._c.execute(
                    insert(webhook_deliveries)
                    .values(
                        channel=channel,
                        dedupe_key=dedupe_key,
                        headers=dict(headers),
                        body=body,
                        received_at=at,
                    )
                    .returning(webhook_deliveries.c.id)
                ).scalar_one()
        except IntegrityError:
            return int(
                self._c.execute(select(webhook_deliveries.c.id).where(where)).scalar_one()
            ), True
        return int(new_id), False

    def unprocessed_inbound(
        self, *, channels: Collection[str], limit: int, max_attempts: int
    ) -> list[InboundDelivery]:
        """Channel webhooks of `channels` not processed yet (nor given up on), oldest first."""
        query = (
            select(webhook_deliveries)
            .where(
                webhook_deliveries.c.channel.in_(sorted(channels)),
                webhook_deliveries.c.processed_at.is_(None),
                webhook_deliveries.c.attempts < max_attempts,
            )
            .order_by(webhook_deliveries.c.id)
            .limit(limit)
        )
        return [_inbound(r) for r in self._c.execute(query)]

    def get_inbound(self, delivery_id: int) -> InboundDelivery:
        """One stored channel webhook."""
        row = self._c.execute(
            select(webhook_deliveries).where(webhook_deliveries.c.id == delivery_id)
        ).first()
        if row is None:
            raise NotFound(f"unknown webhook delivery {delivery_id}")
        return _inbound(row)

    def mark_inbound(
        self, delivery_id: int, *, processed_at: datetime | None, error: str | None
    ) -> None:
        """Record one processing attempt of a channel webhook."""
        self._c.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id == delivery_id)
            .values(
                processed_at=processed_at,
                error=error,
                attempts=webhook_deliveries.c.attempts + 1,
            )
        )

    def add_subscription(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        secret: str,
        description: str,
        cursor: int,
        at: datetime,
    ) -> Subscription:
        """Register an outgoing webhook that starts after event `cursor`."""
        values = {
            "url": url,
            "event_types": list(event_types),
            "secret": secret,
            "description": description,
            "cursor": cursor,
            "created_at": at,
        }
        new_id = self._c.execute(
            insert(webhook_subscriptions).values(**values).returning(webhook_subscriptions.c.id)
        ).scalar_one()
        return self.get_subscription(int(new_id))

    def get_subscription(self, subscription_id: int) -> Subscription:
        """One subscription."""
        row = self._c.execute(
            select(webhook_subscriptions).where(webhook_subscriptions.c.id == subscription_id)
        ).first()
        if row is None:
            raise NotFound(f"unknown webhook {subscription_id}")
        return _subscription(row)

    def list_subscriptions(self, *, include_disabled: bool) -> list[Subscription]:
        """Subscriptions by id."""
        query = select(webhook_subscriptions).order_by(webhook_subscriptions.c.id)
        if not include_disabled:
            query = query.where(webhook_subscriptions.c.disabled_at.is_(None))
        return [_subscription(r) for r in self._c.execute(query)]

    def disable_subscription(self, subscription_id: int, *, at: datetime) -> Subscription:
        """Stop sending to a subscription (its log stays)."""
        self.get_subscription(subscription_id)
        self._c.execute(
            update(webhook_subscriptions)
            .where(
                webhook_subscriptions.c.id == subscription_id,
                webhook_subscriptions.c.disabled_at.is_(None),
            )
            .values(disabled_at=at)
        )
        return self.get_subscription(subscription_id)

    def advance_cursor(self, subscription_id: int, old: int, new: int) -> bool:
        """Move a subscription's cursor from `old` to `new`; False if another got there first."""
        moved = self._c.execute(
            update(webhook_subscriptions)
            .where(
                webhook_subscriptions.c.id == subscription_id,
                webhook_subscriptions.c.cursor == old,
            )
            .values(cursor=new)
        )
        return bool(moved.rowcount == 1)

    def add_deliveries(
        self, subscription_id: int, event_ids: Sequence[int], *, at: datetime
    ) -> None:
        """Queue events for a subscription, to be sent at once."""
        if event_ids:
            self._c.execute(
                insert(webhook_out_deliveries),
                [
                    {
                        "subscription_id": subscription_id,
                        "event_id": event_id,
                        "status": DeliveryStatus.PENDING.value,
                        "attempts": 0,
                        "next_attempt_at": at,
                        "created_at": at,
                    }
                    for event_id in event_ids
                ],
            )

    def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        """Take deliveries due now (or whose sender's lease ran out) for sending."""
        table = webhook_out_deliveries
        due = (
            select(table.c.id)
            .where(
                or_(
                    table.c.status == DeliveryStatus.PENDING.value,
                    table.c.status == DeliveryStatus.SENDING.value,
                ),
                table.c.next_attempt_at <= now,
            )
            .order_by(table.c.next_attempt_at, table.c.id)
            .limit(limit)
        )
        claimed = []
        for delivery_id in self._c.execute(due).scalars():
            taken = self._c.execute(
                update(table)
                .where(table.c.id == delivery_id, table.c.next_attempt_at <= now)
                .values(status=DeliveryStatus.SENDING.value, next_attempt_at=lease_until)
            )
            if taken.rowcount == 1:
                claimed.append(int(delivery_id))
        return claimed

    def get_delivery(self, delivery_id: int) -> OutboundDelivery:
        """One outgoing delivery."""
        row = self._c.execute(
            select(webhook_out_deliveries).where(webhook_out_deliveries.c.id == delivery_id)
        ).first()
        if row is None:
            raise NotFound(f"unknown delivery {delivery_id}")
        return _outbound(row)

    def record_attempt(
        self,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime,
        response_status: int | None,
        error: str | None,
        delivered_at: datetime | None,
    ) -> None:
        """Record how one sending attempt went."""
        self._c.execute(
            update(webhook_out_deliveries)
            .where(webhook_out_deliveries.c.id == delivery_id)
            .values(
                status=status.value,
                attempts=webhook_out_deliveries.c.attempts + 1,
                next_attempt_at=next_attempt_at,
                response_status=response_status,
                error=error,
                delivered_at=delivered_at,
            )
        )

    def deliveries_of(
        self, subscription_id: int, *, before_id: int | None, limit: int
    ) -> Page[OutboundDelivery]:
        """A subscription's deliveries, newest first (`before_id`: the last id seen)."""
        table = webhook_out_deliveries
        query = (
            select(table)
            .where(table.c.subscription_id == subscription_id)
            .order_by(table.c.id.desc())
            .limit(limit + 1)
        )
        if before_id is not None:
            query = query.where(table.c.id < before_id)
        rows = [_outbound(r) for r in self._c.execute(query)]
        page = rows[:limit]
        return Page(page, str(page[-1].id) if len(rows) > limit else None)
