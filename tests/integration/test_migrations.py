"""The migrations build exactly the schema the code declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from stockpool.bootstrap import Settings, initialise
from stockpool.store.engine import parse_database_url
from stockpool.store.schema import metadata


def test_migrated_schema_matches_the_tables(database_url: str) -> None:
    engine = create_engine(parse_database_url(database_url))
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), metadata
        )
    engine.dispose()
    assert diff == []


def test_init_is_idempotent(database_url: str, tmp_path: object) -> None:
    settings = Settings(database_url=database_url, data_dir=__import__("pathlib").Path("."))
    initialise(settings).dispose()
    initialise(settings).dispose()
