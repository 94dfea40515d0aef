"""orders: orders, lines, commitments, oversold exceptions, zone distances, channel sourcing

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 16:39:17.516159
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpool.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "zone_distances",
        sa.Column("zone_a", sa.String(length=100), nullable=False),
        sa.Column("zone_b", sa.String(length=100), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.CheckConstraint("distance >= 0", name=op.f("ck_zone_distances_distance_not_negative")),
        sa.CheckConstraint("zone_a < zone_b", name=op.f("ck_zone_distances_zones_in_order")),
        sa.PrimaryKeyConstraint("zone_a", "zone_b", name=op.f("pk_zone_distances")),
    )
    op.create_table(
        "orders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ship_to_zone", sa.String(length=100), nullable=True),
        sa.Column(
            "channel_updated_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_orders_channel_id_channels")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("channel_id", "external_id", name="uq_orders_channel_external"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "order_events",
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reference", sa.String(length=300), nullable=False),
        sa.Column("at", stockpool.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_events_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", "reference", name=op.f("pk_order_events")),
    )
    op.create_table(
        "order_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("listing_id", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("components", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("shipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("cancelled", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("returned", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_order_lines_quantity_not_negative")),
        sa.CheckConstraint("returned <= shipped", name=op.f("ck_order_lines_returns_shipped")),
        sa.CheckConstraint(
            "shipped + cancelled <= quantity", name=op.f("ck_order_lines_not_over_closed")
        ),
        sa.CheckConstraint(
            "shipped >= 0 AND cancelled >= 0 AND returned >= 0",
            name=op.f("ck_order_lines_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_order_lines_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_lines")),
        sa.UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
    )
    op.create_table(
        "order_commitments",
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("committed", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("shipped", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("returned", sa.BigInteger(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "committed >= 0 AND shipped >= 0", name=op.f("ck_order_commitments_not_negative")
        ),
        sa.CheckConstraint(
            "returned >= 0 AND returned <= shipped",
            name=op.f("ck_order_commitments_returns_shipped"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_order_commitments_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_lines.id"], name=op.f("fk_order_commitments_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["locations.id"],
            name=op.f("fk_order_commitments_location_id_locations"),
        ),
        sa.PrimaryKeyConstraint(
            "line_id", "item_id", "location_id", name=op.f("pk_order_commitments")
        ),
    )
    op.create_table(
        "oversold_exceptions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("line_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("missing", sa.BigInteger(), nullable=False),
        sa.Column("created_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "missing >= 0", name=op.f("ck_oversold_exceptions_missing_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["line_id"], ["order_lines.id"], name=op.f("fk_oversold_exceptions_line_id_order_lines")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_oversold_exceptions_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oversold_exceptions")),
    )
    with op.batch_alter_table("oversold_exceptions", schema=None) as batch_op:
        batch_op.create_index("ix_oversold_exceptions_line", ["line_id"], unique=False)

    op.create_table(
        "oversold_items",
        sa.Column(
            "exception_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("item_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("missing", sa.BigInteger(), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exception_id"],
            ["oversold_exceptions.id"],
            name=op.f("fk_oversold_items_exception_id_oversold_exceptions"),
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_oversold_items_item_id_items")
        ),
        sa.PrimaryKeyConstraint("exception_id", "item_id", name=op.f("pk_oversold_items")),
    )
    with op.batch_alter_table("oversold_items", schema=None) as batch_op:
        batch_op.create_index("ix_oversold_items_open_item", ["open", "item_id"], unique=False)

    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sourcing", sa.String(length=20), server_default="priority", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("sourcing")

    with op.batch_alter_table("oversold_items", schema=None) as batch_op:
        batch_op.drop_index("ix_oversold_items_open_item")

    op.drop_table("oversold_items")
    with op.batch_alter_table("oversold_exceptions", schema=None) as batch_op:
        batch_op.drop_index("ix_oversold_exceptions_line")

    op.drop_table("oversold_exceptions")
    op.drop_table("order_commitments")
    op.drop_table("order_lines")
    op.drop_table("order_events")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_status_created")

    op.drop_table("orders")
    op.drop_table("zone_distances")
