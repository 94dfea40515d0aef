"""Whole-database snapshots, so negative tests can assert that nothing changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from stockpool.services.context import Services
from stockpool.store.schema import metadata


def engine_of(app: Services) -> Engine:
    """The engine behind a Services object built on the SQL store."""
    engine = app.uow.engine  # type: ignore[attr-defined]
    assert isinstance(engine, Engine)
    return engine


def snapshot(app: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every stockpool table, in a stable order."""
    with engine_of(app).connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }
