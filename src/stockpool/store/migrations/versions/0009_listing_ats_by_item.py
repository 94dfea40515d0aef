"""listings: their stored ATS in a table of its own, kept by item

A stock change rewrites the ATS of every listing of the items it changed. In `listings`
those rows lie wherever the listings were created (channel by channel), so a change wrote
one page per listing. `listing_ats` is keyed by item (the item id times 2**20, plus the
listing's place among that item's listings; minus the bundle id for a bundle's) and SQLite
stores it in key order, so the listings of one item share a page.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 02:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stockpool.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "listing_ats",
        sa.Column("id", _ID, autoincrement=False, nullable=False),
        sa.Column("listing_row_id", _ID, nullable=False),
        sa.Column("ats", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("ats_version", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("ats_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("ats >= 0", name=op.f("ck_listing_ats_ats_not_negative")),
        sa.ForeignKeyConstraint(
            ["listing_row_id"], ["listings.id"], name=op.f("fk_listing_ats_listing_row_id_listings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listing_ats")),
        sa.UniqueConstraint("listing_row_id", name="uq_listing_ats_listing"),
    )
    # Keys as `stockpool.store.allocation_tables.ATS_ROWS_SQL` makes them (that text may
    # change; this migration may not).
    op.execute(
        "INSERT INTO listing_ats (id, listing_row_id, ats, ats_version, ats_at) "
        "SELECT n.item_key * 1048576 + n.place, n.id, n.ats, n.ats_version, n.ats_at FROM ("
        "SELECT COALESCE(item_id, -bundle_id) AS item_key, id, ats, ats_version, ats_at, "
        "ROW_NUMBER() OVER (PARTITION BY COALESCE(item_id, -bundle_id) ORDER BY id) - 1 AS place "
        "FROM listings) AS n ORDER BY 1"
    )
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_listings_ats_not_negative"), type_="check")
        batch_op.drop_column("ats_at")
        batch_op.drop_column("ats_version")
        batch_op.drop_column("ats")


def downgrade() -> None:
    with op.batch_alter_table("listings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ats", sa.BigInteger(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("ats_version", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("ats_at", stockpool.store.types.UtcDateTime(timezone=True), nullable=True)
        )
        batch_op.create_check_constraint(op.f("ck_listings_ats_not_negative"), "ats >= 0")
    op.execute(
        "UPDATE listings SET ats = (SELECT a.ats FROM listing_ats a WHERE a.listing_row_id = "
        "listings.id), ats_version = (SELECT a.ats_version FROM listing_ats a "
        "WHERE a.listing_row_id = listings.id), ats_at = (SELECT a.ats_at FROM listing_ats a "
        "WHERE a.listing_row_id = listings.id) "
        "WHERE id IN (SELECT listing_row_id FROM listing_ats)"
    )
    op.drop_table("listing_ats")
