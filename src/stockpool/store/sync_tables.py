"""Tables of channel synchronisation: connections, listing mappings, the outbox, the log of
acknowledgements and failures, and drift found by reconciliation."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from stockpool.store.tables import Id, metadata
from stockpool.store.types import UtcDateTime

# How to reach a channel's account: one row per connected channel.
channel_connections = Table(
    "channel_connections",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("shop", String(255), nullable=False, unique=True),
    Column("base_url", String(500), nullable=False),
    Column("token", Text, nullable=False),
    # Webhook secrets, current first; a previous one is kept during a rotation.
    Column("secrets", JSON, nullable=False),
    Column("heal", String(20), nullable=False, server_default="report"),
    # The channel update time up to which its orders have been polled.
    Column("orders_cursor", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

# Where each listing lives on its channel, and what the channel was last known to hold.
sync_listings = Table(
    "sync_listings",
    metadata,
    Column("listing_row_id", Id, ForeignKey("listings.id"), primary_key=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("remote_item", String(255), nullable=False),
    Column("remote_location", String(255), nullable=False),
    # The quantity the channel holds as far as we know (what we pushed or read); the
    # compare-and-set value of the next push. None: unknown, read it first.
    Column("channel_quantity", BigInteger),
    Column("pushed_quantity", BigInteger),
    Column("pushed_version", BigInteger),
    Column("pushed_at", UtcDateTime),
    Column("response_id", String(255)),
    Index("ix_sync_listings_remote", "channel_id", "remote_item", "remote_location", unique=True),
)

# The outbox: one row per listing whose newest value is not yet acknowledged by its channel.
# Written in the transaction that changed the value; a newer change overwrites the row.
sync_outbox = Table(
    "sync_outbox",
    metadata,
    Column("listing_row_id", Id, ForeignKey("listings.id"), primary_key=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("desired", BigInteger, nullable=False),
    Column("version", BigInteger, nullable=False),
    # The oldest change not yet acknowledged (sync lag runs from here), and the newest.
    Column("first_changed_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_owner", String(100)),
    Column("lease_until", UtcDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Index("ix_sync_outbox_due", "channel_id", "next_attempt_at"),
)

# Every acknowledgement and every failure of a push, for sync health.
sync_log = Table(
    "sync_log",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("listing_row_id", Id, ForeignKey("listings.id"), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("quantity", BigInteger),
    Column("version", BigInteger),
    Column("response_id", String(255)),
    Column("message", Text),
    Column("lag_ms", BigInteger),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_sync_log_channel_at", "channel_id", "at"),
)

# Listings whose channel quantity differs from what it should show.
sync_drift = Table(
    "sync_drift",
    metadata,
    Column("listing_row_id", Id, ForeignKey("listings.id"), primary_key=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("expected", BigInteger, nullable=False),
    Column("actual", BigInteger, nullable=False),
    Column("cause", String(500), nullable=False),
    Column("first_seen_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
)
