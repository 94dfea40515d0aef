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
    Column("created_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
    UniqueConstraint("channel_id", "listing_id", name="uq_listings_channel_listing"),
    CheckConstraint("units >= 1", name="units_positive"),
    CheckConstraint("(item_id IS NULL) <> (bundle_id IS NULL)", name="maps_one_item_or_bundle"),
    Index("ix_listings_item", "item_id"),
    Index("ix_listings_bundle", "bundle_id"),
)

# Each listing's stored ATS and its version, kept by item: a stock change rewrites the ATS
# of every listing of the items it changed, and here the listings of one item sit side by
# side (SQLite stores rows in key order), so that a change writes a page per item rather
# than a page per listing. Its key is made by `ATS_ROWS_SQL`.
listing_ats = Table(
    "listing_ats",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=False),
    Column("listing_row_id", Id, ForeignKey("listings.id"), nullable=False),
    Column("ats", BigInteger, nullable=False, server_default="0"),
    Column("ats_version", BigInteger, nullable=False, server_default="0"),
    Column("ats_at", UtcDateTime),
    UniqueConstraint("listing_row_id", name="uq_listing_ats_listing"),
    CheckConstraint("ats >= 0", name="ats_not_negative"),
)
# The `listing_ats` rows of listings without one (those of `{where}`: `AND l.id = :row` for
# one listing, or nothing for all of them). A listing's key there is its item id (minus its
# bundle id for a bundle) times 2**20, plus its place among that item's listings. Keys are
# unique whatever happens: past 2**20 listings of one item they run into the next item's
# range, which only spoils the order of the rows.
ATS_ROWS_SQL = (
    "INSERT INTO listing_ats (id, listing_row_id) "
    "SELECT n.item_key * 1048576 + n.place + COALESCE((SELECT MAX(a.id) + 1 - n.item_key * 1048576 "
    "FROM listing_ats a WHERE a.id >= n.item_key * 1048576 "
    "AND a.id < (n.item_key + 1) * 1048576), 0), n.listing_row_id FROM ("
    "SELECT COALESCE(l.item_id, -l.bundle_id) AS item_key, l.id AS listing_row_id, "
    "ROW_NUMBER() OVER (PARTITION BY COALESCE(l.item_id, -l.bundle_id) ORDER BY l.id) - 1 "
    "AS place FROM listings l "
    "WHERE NOT EXISTS (SELECT 1 FROM listing_ats x WHERE x.listing_row_id = l.id) {where}"
    ") AS n "
    "ORDER BY 1"
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
