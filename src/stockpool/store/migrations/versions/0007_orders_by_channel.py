"""orders: an index by channel and creation time (sync reconciliation, velocity)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 20:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_orders_channel_created", "orders", ["channel_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_channel_created", table_name="orders")
