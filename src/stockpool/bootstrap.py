"""The one place that reads settings and builds engines, clocks and services.

Settings come from arguments first, then the environment:
`STOCKPOOL_DATABASE_URL` (any SQLAlchemy URL for SQLite or PostgreSQL) and
`STOCKPOOL_DATA_DIR` (default `./data`, where the embedded SQLite file lives).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from stockpool.domain.errors import StockpoolError
from stockpool.services.context import Services
from stockpool.store import migrate
from stockpool.store.engine import create_store_engine, parse_database_url
from stockpool.store.uow import SqlUnitOfWorkFactory

SQLITE_FILE = "stockpool.db"


class NotInitialised(StockpoolError):
    """The database has no stockpool schema yet."""


class Unreachable(StockpoolError):
    """The database server cannot be reached."""


@dataclass(frozen=True)
class Settings:
    """Where stockpool keeps its data."""

    database_url: str
    data_dir: Path


def load_settings(database_url: str | None = None) -> Settings:
    """Settings from the arguments, then the environment, then the defaults."""
    data_dir = Path(os.environ.get("STOCKPOOL_DATA_DIR") or "data")
    url = (
        database_url
        or os.environ.get("STOCKPOOL_DATABASE_URL")
        or f"sqlite:///{(data_dir / SQLITE_FILE).as_posix()}"
    )
    return Settings(database_url=url, data_dir=data_dir)


def system_clock() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def build_engine(settings: Settings, *, pool_size: int = 8) -> Engine:
    """The engine for the configured database (nothing is connected yet)."""
    return create_store_engine(parse_database_url(settings.database_url), pool_size=pool_size)


def _is_current(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            return inspect(connection).has_table("alembic_version")
    except OperationalError as exc:
        raise Unreachable(
            f"cannot reach the database {engine.url.render_as_string()}: {exc.orig}"
        ) from None


def initialise(settings: Settings) -> Engine:
    """Create or upgrade the schema; safe to run again."""
    engine = build_engine(settings)
    _is_current(engine)
    migrate.upgrade(engine)
    return engine


def build_services(settings: Settings, *, pool_size: int = 8, check: bool = True) -> Services:
    """Services on the configured database, which must be initialised."""
    engine = build_engine(settings, pool_size=pool_size)
    if check and not _is_current(engine):
        raise NotInitialised(
            f"the database {engine.url.render_as_string()} has no stockpool schema: "
            "run `stockpool init` first"
        )
    return Services(uow=SqlUnitOfWorkFactory(engine), clock=system_clock)
