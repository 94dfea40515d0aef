"""Events, outgoing webhook subscriptions and their deliveries, channel webhooks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field

from stockpool.api.schemas.common import Input, Output
from stockpool.domain.events import Event, EventType, OutboundDelivery, Subscription

EventTypeName = Annotated[str, Field(examples=[t.value for t in EventType])]


class EventPublic(Output):
    """One change."""

    id: int
    type: str
    item: str | None
    channel: str | None
    payload: dict[str, Any]
    created_at: datetime

    @classmethod
    def of(cls, e: Event) -> EventPublic:
        """From the domain record."""
        return cls(**e.__dict__)


class EventsPublic(Output):
    """Events after a cursor, oldest first (continue with `next_cursor`)."""

    data: list[EventPublic]
    next_cursor: str | None


class WebhookCreate(Input):
    """A URL to send events to, which events, and the secret their signature uses."""

    url: Annotated[str, Field(min_length=1, max_length=2000, examples=["https://example.com/hook"])]
    event_types: Annotated[list[EventTypeName], Field(min_length=1, max_length=20)]
    secret: Annotated[str, Field(min_length=16, max_length=200)]
    description: Annotated[str, Field(max_length=500)] = ""


class WebhookPublic(Output):
    """A registered outgoing webhook (never its secret)."""

    id: int
    url: str
    event_types: list[str]
    description: str
    created_at: datetime
    active: bool

    @classmethod
    def of(cls, s: Subscription) -> WebhookPublic:
        """From the domain record."""
        return cls(
            id=s.id,
            url=s.url,
            event_types=list(s.event_types),
            description=s.description,
            created_at=s.created_at,
            active=s.disabled_at is None,
        )


class WebhooksPublic(Output):
    """A page of outgoing webhooks by id."""

    data: list[WebhookPublic]
    next_cursor: str | None


class DeliveryPublic(Output):
    """One event sent (or being sent) to one webhook."""

    id: int
    event_id: int
    status: str
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, d: OutboundDelivery) -> DeliveryPublic:
        """From the domain record."""
        return cls(
            id=d.id,
            event_id=d.event_id,
            status=d.status.value,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            response_status=d.response_status,
            error=d.error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


class DeliveriesPublic(Output):
    """A page of a webhook's deliveries, newest first."""

    data: list[DeliveryPublic]
    next_cursor: str | None


class WebhookReceived(Output):
    """A channel webhook, stored for processing."""

    id: int
    duplicate: bool
