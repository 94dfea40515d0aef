"""The schema. Migrations in `migrations/` build exactly these tables on both databases."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from stockpool.store.types import UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only turns INTEGER PRIMARY KEY into an auto-increment rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")

items = Table(
    "items",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("sku", String(100), nullable=False, unique=True),
    Column("title", String(500), nullable=False),
    Column("barcode", String(64)),
    Column("unit_cost", Numeric(18, 4)),
    Column("price", Numeric(18, 4)),
    Column("tags", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
)

locations = Table(
    "locations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(50), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("zone", String(100)),
    Column("priority", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("archived_at", UtcDateTime),
)

_LEVEL_COUNTS = (
    "on_hand",
    "committed",
    "damaged",
    "quality_control",
    "safety_stock",
    "hold",
    "available",
    "incoming",
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    *(Column(name, BigInteger, nullable=False, server_default="0") for name in _LEVEL_COUNTS),
    Column("version", BigInteger, nullable=False, server_default="0"),
    *(CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative") for name in _LEVEL_COUNTS),
    CheckConstraint(
        "available = on_hand - committed - damaged - quality_control - safety_stock - hold",
        name="available_derived",
    ),
)

movements = Table(
    "movements",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reference", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    Index("ix_movements_item_location_id", "item_id", "location_id", "id"),
)

status_changes = Table(
    "status_changes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", Text, nullable=False),
    Column("reference", String(500), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    Index("ix_status_changes_item_location", "item_id", "location_id"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("from_location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("to_location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reference", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("shipped_at", UtcDateTime),
    Column("expected_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    CheckConstraint("from_location_id <> to_location_id", name="two_locations"),
)

transfer_lines = Table(
    "transfer_lines",
    metadata,
    Column("transfer_id", Id, ForeignKey("transfers.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("received", BigInteger, nullable=False, server_default="0"),
    Column("cancelled", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("received >= 0 AND cancelled >= 0", name="progress_not_negative"),
    CheckConstraint("received + cancelled <= quantity", name="not_over_closed"),
)
