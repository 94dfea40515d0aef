"""Tables of purchasing and count reconciliation.

Suppliers and their terms per item; purchase orders with their lines; every lead time
observed on a receipt (for planning); count documents with their reconciled lines.
"""

from __future__ import annotations

from sqlalchemy import (
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
)

from stockpool.store.tables import Id, metadata
from stockpool.store.types import UtcDateTime

suppliers = Table(
    "suppliers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("code", String(50), nullable=False, unique=True),
    Column("name", String(500), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("lead_time_days", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

supplier_items = Table(
    "supplier_items",
    metadata,
    Column("supplier_id", Id, ForeignKey("suppliers.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("unit_cost", Numeric(18, 4), nullable=False),
    Column("moq", BigInteger, nullable=False),
    Column("case_pack", BigInteger, nullable=False),
    Column("lead_time_days", Integer),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("moq >= 1 AND case_pack >= 1", name="pack_positive"),
)

purchase_orders = Table(
    "purchase_orders",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=False),
    Column("location_id", Id, ForeignKey("locations.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("reference", String(500), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("opened_at", UtcDateTime),
    Column("expected_at", UtcDateTime),
    Column("closed_at", UtcDateTime),
    Index("ix_purchase_orders_status", "status"),
)

purchase_order_lines = Table(
    "purchase_order_lines",
    metadata,
    Column("po_id", Id, ForeignKey("purchase_orders.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_cost", Numeric(18, 4), nullable=False),
    Column("received", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    CheckConstraint("received >= 0", name="received_not_negative"),
)

lead_times = Table(
    "lead_times",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("supplier_id", Id, ForeignKey("suppliers.id"), nullable=False),
    Column("item_id", Id, ForeignKey("items.id"), nullable=False),
    Column("po_id", Id, ForeignKey("purchase_orders.id"), nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Column("days", Numeric(9, 3), nullable=False),
    Index("ix_lead_times_supplier_item", "supplier_id", "item_id"),
)

counts = Table(
    "counts",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reference", String(500), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("threshold_units", BigInteger),
    Column("threshold_value", Numeric(18, 4)),
    Column("created_at", UtcDateTime, nullable=False),
)

count_lines = Table(
    "count_lines",
    metadata,
    Column("count_id", Id, ForeignKey("counts.id"), primary_key=True),
    Column("item_id", Id, ForeignKey("items.id"), primary_key=True),
    Column("location_id", Id, ForeignKey("locations.id"), primary_key=True),
    Column("counted", BigInteger, nullable=False),
    Column("counted_at", UtcDateTime),
    Column("expected", BigInteger, nullable=False),
    Column("unit_cost", Numeric(18, 4)),
    Column("status", String(20), nullable=False),
    Column("flags", Text, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UtcDateTime),
    CheckConstraint("counted >= 0", name="counted_not_negative"),
)
