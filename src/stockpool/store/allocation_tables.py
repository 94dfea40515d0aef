"""Tables of channels, listings, bundles, allocation rules, event profiles and their audit."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stockpool.store.tables import Id, metadata
from stockpool.store.types import UtcDateTime

channels = Table(
    "channels",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(50), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("account", String(200), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("fee_rate", Numeric(7, 4), nullable=False),
    # How orders of the channel choose locations (see stockpool.domain.sourcing).
    Column("sourcing", String(20), nullable=False, server_default="priority"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
)

channel_locations = Table(
    "channel_locations",
    metadata,
    Column("channel_id", Id, ForeignKey("channels.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
)

bundles = Table(
    "bundles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(100), nullable=False, unique=True),
    Column("title", String(500), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
)

bundle_components = Table(
    "bundle_components",
    metadata,
    Column("bundle_id", Id, ForeignKey("bundles.id"), primary_key=True),
    Column("component_sku", String(100), primary_key=True),
    Column("quantity", Integer, nullable=False),
    CheckConstraint("quantity > 0", name="quantity_positive"),
)

listings = Table(
    "listings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("channel_id", Id, ForeignKey("channels.id"), nullable=False),
    Column("listing_id", String(200), nullable=False),
    Column("channel_sku", String(200), nullable=False),
    Column("item_id", Id, ForeignKey("items.id")),
    Column("bundle_id", Id, ForeignKey("bundles.id")),
    Column("units", Integer, nullable=False),
    Column("ats", BigInteger, nullable=False, server_default="0"),
    Column("ats_version", BigInteger, nullable=False, server_default="0"),
    Column("ats_at", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
    UniqueConstraint("channel_id", "listing_id", name="uq_listings_channel_listing"),
    CheckConstraint("units >= 1", name="units_positive"),
    CheckConstraint("ats >= 0", name="ats_not_negative"),
    CheckConstraint("(item_id IS NULL) <> (bundle_id IS NULL)", name="maps_one_item_or_bundle"),
    Index("ix_listings_item", "item_id"),
    Index("ix_listings_bundle", "bundle_id"),
)

event_profiles = Table(
    "event_profiles",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
)

allocation_rules = Table(
    "allocation_rules",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # level|target|channel|event: unique even where target, channel or event is empty.
    Column("scope", String(500), nullable=False, unique=True),
    Column("level", String(20), nullable=False),
    Column("target", String(200)),
    Column("channel_id", Id, ForeignKey("channels.id")),
    Column("event_id", Id, ForeignKey("event_profiles.id")),
    Column("protect", BigInteger),
    Column("protect_start", UtcDateTime),
    Column("protect_end", UtcDateTime),
    Column("buffer", BigInteger),
    Column("percent", Numeric(7, 4)),
    Column("maximum", BigInteger),
    Column("floor", BigInteger),
    Column("eligible_locations", JSON),
    Column("updated_at", UtcDateTime, nullable=False),
)

rule_changes = Table(
    "rule_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("scope", String(500), nullable=False),
    Column("before", JSON),
    Column("after", JSON),
)

# One row: bumped by every change to channels, listings, bundles, rules or events, so that
# every process knows when its compiled allocation plan is stale.
allocation_config = Table(
    "allocation_config",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", BigInteger, nullable=False),
)
