"""Tables behind the API: keys, audit, idempotency, events and webhooks in and out.

`events` is the change feed: stock-changing transactions append to it atomically, and the
live stream and the outgoing webhook dispatcher read it by increasing id, so a restart
loses nothing. Channel webhooks are stored as delivered (`webhook_deliveries`) and
processed afterwards; outgoing deliveries keep one row per (subscription, event).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stockpool.store.tables import Id, metadata
from stockpool.store.types import UtcDateTime

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("key_id", Id, ForeignKey("api_keys.id")),
    Column("actor", String(200), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("resource", String(500), nullable=False),
    Column("status", Integer, nullable=False),
    Column("request_id", String(200), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_log_key_id", "key_id"),
    Index("ix_audit_log_resource", "resource"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_id", Id, ForeignKey("api_keys.id"), primary_key=True),
    Column("idempotency_key", String(255), primary_key=True),
    Column("method", String(10), nullable=False),
    Column("path", String(2000), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("status", Integer),
    Column("media_type", String(100)),
    Column("response_body", LargeBinary),
    Column("created_at", UtcDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("type", String(50), nullable=False),
    Column("item", String(100)),
    Column("channel", String(50)),
    Column("payload", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # No index by item: each stock change would write one entry per item it touched, each
    # at its own place in the index; an item-filtered read scans forward from its cursor.
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel", String(50), nullable=False),
    Column("dedupe_key", String(255), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("processed_at", UtcDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("error", Text),
    UniqueConstraint("channel", "dedupe_key", name="uq_webhook_deliveries_channel_dedupe_key"),
    Index("ix_webhook_deliveries_processed_at", "processed_at"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("url", String(2000), nullable=False),
    Column("event_types", JSON, nullable=False),
    Column("secret", String(200), nullable=False),
    Column("description", String(500), nullable=False),
    Column("cursor", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

webhook_out_deliveries = Table(
    "webhook_out_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("subscription_id", Id, ForeignKey("webhook_subscriptions.id"), nullable=False),
    Column("event_id", Id, ForeignKey("events.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("response_status", Integer),
    Column("error", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("delivered_at", UtcDateTime),
    UniqueConstraint("subscription_id", "event_id", name="uq_webhook_out_deliveries_event"),
    Index("ix_webhook_out_deliveries_status", "status", "next_attempt_at"),
)
