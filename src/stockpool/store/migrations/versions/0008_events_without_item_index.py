"""events: no index by item (every stock change wrote one entry per item at a random place)

An item-filtered read of the feed scans forward from its cursor instead; a live stream's
cursor is near the end of the feed, where that scan is short.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_events_item", table_name="events")


def downgrade() -> None:
    op.create_index("ix_events_item", "events", ["item"], unique=False)
