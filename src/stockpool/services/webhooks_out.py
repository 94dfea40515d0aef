"""Use cases of outgoing webhooks: subscriptions, and the bookkeeping of their deliveries.

A subscription starts after the newest event at the time it is made. The dispatcher first
*plans*: for each subscription it turns the events after its cursor into deliveries and
moves the cursor, in one transaction (so a restart loses nothing and sends nothing twice
because of planning). It then *claims* due deliveries (a lease, so that another process
does not send them too), sends them outside any transaction, and records each result:
delivered on a 2xx answer, else tried again with exponential backoff, then failed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

from stockpool.domain.errors import InvalidInput
from stockpool.domain.events import (
    SIGNATURE_HEADER,
    DeliveryStatus,
    Event,
    OutboundDelivery,
    Subscription,
    next_attempt,
    require_event_types,
    require_secret,
    require_webhook_url,
    sign,
)
from stockpool.services.context import Services
from stockpool.services.ports import Page

PLAN_BATCH = 500
LEASE = timedelta(seconds=60)


def subscribe(
    app: Services, url: str, event_types: list[str], *, secret: str, description: str = ""
) -> Subscription:
    """Register a URL for events of the given types, from now on."""
    target = require_webhook_url(url)
    types = require_event_types(event_types)
    key = require_secret(secret)
    if len(description) > 500:
        raise InvalidInput("a description may have at most 500 characters")
    with app.uow() as uow:
        found = uow.events.add_subscription(
            target,
            types,
            secret=key,
            description=description.strip(),
            cursor=uow.events.last_id(),
            at=app.clock(),
        )
        uow.commit()
    return found


def list_subscriptions(app: Services, *, include_disabled: bool = False) -> list[Subscription]:
    """Subscriptions by id."""
    with app.uow() as uow:
        return uow.events.list_subscriptions(include_disabled=include_disabled)


def get_subscription(app: Services, subscription_id: int) -> Subscription:
    """One subscription."""
    with app.uow() as uow:
        return uow.events.get_subscription(subscription_id)


def unsubscribe(app: Services, subscription_id: int) -> Subscription:
    """Stop sending to a subscription; its delivery log stays."""
    with app.uow() as uow:
        found = uow.events.disable_subscription(subscription_id, at=app.clock())
        uow.commit()
    return found


def deliveries(
    app: Services, subscription_id: int, *, before_id: int | None = None, limit: int = 100
) -> Page[OutboundDelivery]:
    """A subscription's delivery log, newest first."""
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    with app.uow() as uow:
        uow.events.get_subscription(subscription_id)
        return uow.events.deliveries_of(subscription_id, before_id=before_id, limit=limit)


def plan_deliveries(app: Services) -> int:
    """Turn new events into deliveries for every active subscription; how many were made."""
    made = 0
    with app.uow() as uow:
        active = uow.events.list_subscriptions(include_disabled=False)
    for subscription in active:
        with app.uow() as uow:
            found = uow.events.after(subscription.cursor, limit=PLAN_BATCH)
            if not found:
                continue
            wanted = [e.id for e in found if subscription.wants(e.type)]
            if uow.events.advance_cursor(subscription.id, subscription.cursor, found[-1].id):
                uow.events.add_deliveries(subscription.id, wanted, at=app.clock())
                uow.commit()
                made += len(wanted)
    return made


@dataclass(frozen=True)
class OutgoingRequest:
    """A delivery ready to send: where, what, and its headers (signature included)."""

    delivery_id: int
    url: str
    body: bytes
    headers: dict[str, str]


def event_body(event: Event) -> bytes:
    """The JSON body sent for an event."""
    document = {
        "id": event.id,
        "type": event.type,
        "item": event.item,
        "channel": event.channel,
        "payload": event.payload,
        "created_at": event.created_at.isoformat(),
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


def claim_due(app: Services, *, limit: int = 50) -> list[OutgoingRequest]:
    """Take the deliveries due now for sending (leased, so no other process sends them)."""
    now = app.clock()
    requests = []
    with app.uow() as uow:
        claimed = uow.events.claim_due(now=now, lease_until=now + LEASE, limit=limit)
        for delivery_id in claimed:
            delivery = uow.events.get_delivery(delivery_id)
            subscription = uow.events.get_subscription(delivery.subscription_id)
            event = uow.events.get_event(delivery.event_id)
            body = event_body(event)
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(subscription.secret, body),
                "X-Stockpool-Event": event.type,
                "X-Stockpool-Delivery": str(delivery_id),
            }
            requests.append(OutgoingRequest(delivery_id, subscription.url, body, headers))
        uow.commit()
    return requests


def record_result(
    app: Services,
    delivery_id: int,
    *,
    response_status: int | None,
    error: str | None,
    backoff_seconds: float,
) -> OutboundDelivery:
    """Record how sending a delivery went: delivered, to be retried, or failed."""
    now = app.clock()
    with app.uow() as uow:
        delivery = uow.events.get_delivery(delivery_id)
        ok = error is None and response_status is not None and 200 <= response_status < 300
        retry_at = (
            None if ok else next_attempt(delivery.attempts + 1, now, base_seconds=backoff_seconds)
        )
        if ok:
            status = DeliveryStatus.DELIVERED
        elif retry_at is None:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
        uow.events.record_attempt(
            delivery_id,
            status=status,
            next_attempt_at=retry_at or now,
            response_status=response_status,
            error=None if error is None else error[:2000],
            delivered_at=now if ok else None,
        )
        result = uow.events.get_delivery(delivery_id)
        uow.commit()
    return result
