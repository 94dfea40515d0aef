"""order_commitments: a commitment refers to its stock level, not to its item and location

Units are committed at a stock level, which the committing transaction has locked already.
The two references it replaces each took a lock of their own on PostgreSQL, on item and
location rows that every order shares. It may be checked at commit instead, for a bulk load
that writes levels after the commitments they hold.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 03:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_commitments", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_order_commitments_item_id_items"), type_="foreignkey")
        batch_op.drop_constraint(
            op.f("fk_order_commitments_location_id_locations"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            op.f("fk_order_commitments_item_id_stock_levels"),
            "stock_levels",
            ["item_id", "location_id"],
            ["item_id", "location_id"],
            deferrable=True,
            initially="IMMEDIATE",
        )


def downgrade() -> None:
    with op.batch_alter_table("order_commitments", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_order_commitments_item_id_stock_levels"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            op.f("fk_order_commitments_location_id_locations"),
            "locations",
            ["location_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            op.f("fk_order_commitments_item_id_items"), "items", ["item_id"], ["id"]
        )
