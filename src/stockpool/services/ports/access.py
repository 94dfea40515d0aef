"""Ports of API access, the audit log, events and webhooks."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from stockpool.domain.access import ApiKey, AuditEntry, Role, StoredResponse
from stockpool.domain.events import (
    DeliveryStatus,
    Event,
    InboundDelivery,
    NewEvent,
    OutboundDelivery,
    Subscription,
)
from stockpool.services.ports.ledger import Page


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries to list (None: any)."""

    key_id: int | None = None
    method: str | None = None
    resource: str | None = None
    path_prefix: str | None = None
    status: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AccessRepository(Protocol):
    """API keys (hashed), the answers kept for idempotent retries, and the audit log."""

    def add_key(
        self, name: str, role: Role, *, prefix: str, key_hash: str, at: datetime
    ) -> ApiKey: ...
    def key_by_hash(self, key_hash: str) -> tuple[ApiKey, str] | None: ...
    def list_keys(self) -> list[ApiKey]: ...
    def revoke_key(self, key_id: int, *, at: datetime) -> ApiKey: ...
    def claim_idempotency(
        self,
        key_id: int,
        key: str,
        *,
        method: str,
        path: str,
        body_hash: str,
        at: datetime,
        stale_before: datetime,
    ) -> tuple[str, StoredResponse | None]: ...
    def finish_idempotency(self, key_id: int, key: str, response: StoredResponse) -> None: ...
    def release_idempotency(self, key_id: int, key: str) -> None: ...
    def record_audits(self, entries: Sequence[AuditEntry]) -> None: ...
    def audit_page(
        self, wanted: AuditFilter, *, before_id: int | None, limit: int
    ) -> Page[AuditEntry]: ...


class EventRepository(Protocol):
    """The event feed, channel webhooks as delivered, and outgoing webhooks."""

    def append(self, events: Sequence[NewEvent], *, at: datetime) -> None: ...
    def after(
        self,
        after_id: int,
        *,
        limit: int,
        item: str | None = None,
        channel: str | None = None,
        types: Collection[str] | None = None,
    ) -> list[Event]: ...
    def last_id(self) -> int: ...
    def get_event(self, event_id: int) -> Event: ...
    def store_inbound(
        self,
        channel: str,
        dedupe_key: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        at: datetime,
    ) -> tuple[int, bool]: ...
    def unprocessed_inbound(
        self, *, channels: Collection[str], limit: int, max_attempts: int
    ) -> list[InboundDelivery]: ...
    def get_inbound(self, delivery_id: int) -> InboundDelivery: ...
    def mark_inbound(
        self, delivery_id: int, *, processed_at: datetime | None, error: str | None
    ) -> None: ...
    def add_subscription(
        self,
        url: str,
        event_types: Sequence[str],
        *,
        secret: str,
        description: str,
        cursor: int,
        at: datetime,
    ) -> Subscription: ...
    def get_subscription(self, subscription_id: int) -> Subscription: ...
    def list_subscriptions(self, *, include_disabled: bool) -> list[Subscription]: ...
    def disable_subscription(self, subscription_id: int, *, at: datetime) -> Subscription: ...
    def advance_cursor(self, subscription_id: int, old: int, new: int) -> bool: ...
    def add_deliveries(
        self, subscription_id: int, event_ids: Sequence[int], *, at: datetime
    ) -> None: ...
    def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> list[int]: ...
    def get_delivery(self, delivery_id: int) -> OutboundDelivery: ...
    def record_attempt(
        self,
        delivery_id: int,
        *,
        status: DeliveryStatus,
        next_attempt_at: datetime,
        response_status: int | None,
        error: str | None,
        delivered_at: datetime | None,
    ) -> None: ...
    def deliveries_of(
        self, subscription_id: int, *, before_id: int | None, limit: int
    ) -> Page[OutboundDelivery]: ...
