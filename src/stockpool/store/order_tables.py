"""Tables of orders, their lines, commitments, oversold exceptions and zone distances."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from stockpool.store.tables import Id, metadata
from stockpool.store.types import UtcDateTime

orders = Table(
    "orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("ship_to_zone", String(100)),
    # The channel's own update time of the last notification applied (ingested orders).
    Column("channel_updated_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("channel_id", "external_id", name="uq_orders_channel_external"),
    Index("ix_orders_status_created", "status", "created_at"),
    Index("ix_orders_channel_created", "channel_id", "created_at"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("line_no", Integer, nullable=False),
    Column("listing_id", String(200), nullable=False),
    Column("sku", String(100), nullable=False),
    # Leaf items and their units per listing unit, fixed when the line is recorded.
    Column("components", JSON, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("shipped", BigInteger, nullable=False, server_default="0"),
    Column("cancelled", BigInteger, nullable=False, server_default="0"),
    Column("returned", BigInteger, nullable=False, server_default="0"),
    UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
    CheckConstraint("quantity >= 0", name="quantity_not_negative"),
    CheckConstraint("shipped >= 0 AND cancelled >= 0 AND returned >= 0", name="not_negative"),
    CheckConstraint("shipped + cancelled <= quantity", name="not_over_closed"),
    CheckConstraint("returned <= shipped", name="returns_shipped"),
)

order_commitments = Table(
    "order_commitments",
    metadata,
    Column("line_id", Id, ForeignKey("order_lines.id"), primary_key=True),
    Column("item_id", Id, primary_key=True),
    Column("location_id", Id, primary_key=True),
    Column("committed", BigInteger, nullable=False, server_default="0"),
    Column("shipped", BigInteger, nullable=False, server_default="0"),
    Column("returned", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("committed >= 0 AND shipped >= 0", name="not_negative"),
    CheckConstraint("returned >= 0 AND returned <= shipped", name="returns_shipped"),
    # Units are committed at a stock level. The level is locked by the transaction that
    # commits them, so this check costs PostgreSQL no lock of its own on the item and
    # location rows, which every order would otherwise share. A bulk load that writes the
    # levels after the orders that shaped them (the demo's history) defers the check to its
    # commit (`check_references_at_commit`).
    ForeignKeyConstraint(
        ["item_id", "location_id"],
        ["stock_levels.item_id", "stock_levels.location_id"],
        deferrable=True,
        initially="IMMEDIATE",
    ),
)

order_events = Table(
    "order_events",
    metadata,
    Column("order_id", Id, ForeignKey("orders.id"), primary_key=True),
    # ship / cancel / return with the caller's reference: applied once.
    Column("reference", String(300), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
)

oversold_exceptions = Table(
    "oversold_exceptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False),
    Column("line_id", Id, ForeignKey("order_lines.id"), nullable=False),
    Column("missing", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime),
    CheckConstraint("missing >= 0", name="missing_not_negative"),
    Index("ix_oversold_exceptions_line", "line_id"),
)

oversold_items = Table(
    "oversold_items",
    metadata,
    Column("exception_id", Id, ForeignKey("oversold_exceptions.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("missing", BigInteger, nullable=False),
    Column("open", Integer, nullable=False),
    Index("ix_oversold_items_open_item", "open", "item_id"),
)

zone_distances = Table(
    "zone_distances",
    metadata,
    Column("zone_a", String(100), primary_key=True),
    Column("zone_b", String(100), primary_key=True),
    Column("distance", Integer, nullable=False),
    CheckConstraint("zone_a < zone_b", name="zones_in_order"),
    CheckConstraint("distance >= 0", name="distance_not_negative"),
)
