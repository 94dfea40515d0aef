"""Events: what changed, in the order it changed, for live streams and outgoing webhooks.

Every event has an increasing id. A reader remembers the last id it has seen and asks for
the ones after it, so a restarted reader misses nothing. Outgoing webhook deliveries are
signed with HMAC-SHA256 of the body under the subscription's secret, and failed ones are
retried with exponential backoff until `MAX_ATTEMPTS`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from stockpool.domain.errors import InvalidInput

SIGNATURE_HEADER = "X-Stockpool-Signature"
MAX_ATTEMPTS = 8
SECRET_MIN, SECRET_MAX = 16, 200


class EventType(StrEnum):
    """The kinds of event."""

    STOCK_CHANGED = "stock.changed"
    ATS_CHANGED = "ats.changed"
    ATS_RECOMPUTED = "ats.recomputed"
    ORDER_ACCEPTED = "order.accepted"
    ORDER_REFUSED = "order.refused"
    ORDER_CHANGED = "order.changed"
    ORDER_OVERSOLD = "order.oversold"
    SYNC_ACKNOWLEDGED = "sync.acknowledged"
    SYNC_FAILED = "sync.failed"
    DRIFT_DETECTED = "drift.detected"


@dataclass(frozen=True)
class Event:
    """One change.

    Attributes:
        id: increasing; readers continue after the last id they saw.
        type: what happened.
        item: the SKU it concerns, if any.
        channel: the channel it concerns, if any.
        payload: the details (JSON-compatible).
        created_at: when it was recorded.
    """

    id: int
    type: str
    item: str | None
    channel: str | None
    payload: dict[str, Any]
    created_at: datetime


class NewEvent(NamedTuple):
    """An event about to be recorded (a named tuple: a stock change makes hundreds).

    `payload` is a JSON object, or its compact JSON text already (stored as it is).
    """

    type: EventType
    item: str | None
    channel: str | None
    payload: dict[str, Any] | str

    def payload_text(self) -> str:
        """The payload as it is stored: compact JSON."""
        return self.payload if isinstance(self.payload, str) else compact_json(self.payload)


# One encoder for every payload (`json.dumps` with separators builds a new one per call).
compact_json = json.JSONEncoder(separators=(",", ":")).encode


class DeliveryStatus(StrEnum):
    """Where an outgoing delivery stands."""

    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Subscription:
    """A registered outgoing webhook: where to send which events, and the signing secret."""

    id: int
    url: str
    event_types: tuple[str, ...]
    secret: str
    description: str
    cursor: int
    created_at: datetime
    disabled_at: datetime | None = None

    def wants(self, event_type: str) -> bool:
        """Whether events of this type are sent to this subscription."""
        return event_type in self.event_types


@dataclass(frozen=True)
class OutboundDelivery:
    """One event for one subscription, and how its sending went."""

    id: int
    subscription_id: int
    event_id: int
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    error: str | None
    created_at: datetime
    delivered_at: datetime | None = None


@dataclass(frozen=True)
class InboundDelivery:
    """A channel's webhook as it arrived; processed later."""

    id: int
    channel: str
    dedupe_key: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    processed_at: datetime | None = None
    attempts: int = 0
    error: str | None = None


def sign(secret: str, body: bytes) -> str:
    """The X-Stockpool-Signature of a body: `sha256=` and the hex HMAC-SHA256."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signature_matches(secret: str, body: bytes, signature: str) -> bool:
    """Whether `signature` is the body's signature (compared in constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)


def next_attempt(attempts: int, now: datetime, *, base_seconds: float) -> datetime | None:
    """When to try again after `attempts` failed tries; None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + timedelta(seconds=base_seconds * 2 ** (attempts - 1))


def require_event_types(names: list[str]) -> tuple[str, ...]:
    """Known event types, each once, in a stable order."""
    known = {t.value for t in EventType}
    if not names:
        raise InvalidInput("a webhook needs at least one event type")
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidInput(f"unknown event type {unknown[0]!r}: one of {', '.join(sorted(known))}")
    return tuple(sorted(set(names)))


def require_webhook_url(url: str) -> str:
    """An absolute http(s) URL with a host."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 2000:
        raise InvalidInput(f"a webhook URL must be an absolute http(s) URL, got {url!r}")
    return url.strip()


def require_secret(secret: str) -> str:
    """A signing secret long enough to matter."""
    if not SECRET_MIN <= len(secret) <= SECRET_MAX or not secret.isprintable():
        raise InvalidInput(
            f"a webhook secret needs {SECRET_MIN} to {SECRET_MAX} printable characters"
        )
    return secret
