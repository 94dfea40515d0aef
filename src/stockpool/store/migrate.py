"""Bring a database's schema to the newest migration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from stockpool.domain.errors import StockpoolError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at stockpool's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied (idempotent)."""
    _migrate(engine, lambda config: command.upgrade(config, "heads"))


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision`."""
    _migrate(engine, lambda config: command.downgrade(config, revision))


def _migrate(engine: Engine, run: Callable[[Config], None]) -> None:
    """Run migrations in one transaction.

    On SQLite a migration may rebuild a table that others reference (SQLite's way to drop a
    constrained column): foreign keys are then off while the migrations run, as SQLite
    requires, and every reference is checked before the migrations commit.
    """
    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        if sqlite:  # on the driver: the pragma only takes effect outside a transaction
            driver.execute("PRAGMA foreign_keys = OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                run(config)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise MigrationFailed(
                            f"a migration left a row of {broken[0]} referencing a missing "
                            f"row of {broken[2]}; nothing was changed"
                        )
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys = ON")  # type: ignore[union-attr]


class MigrationFailed(StockpoolError):
    """A migration would have broken the database's references; it was rolled back."""
