"""The one place that reads settings and builds engines, clocks and services.

Settings come from arguments first, then the environment:
`STOCKPOOL_DATABASE_URL` (any SQLAlchemy URL for SQLite or PostgreSQL) and
`STOCKPOOL_DATA_DIR` (default `./data`, where the embedded SQLite file lives).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, inspect
from sqlalchemy.exc import OperationalError

from stockpool.domain.errors import StockpoolError
from stockpool.services.context import Services
from stockpool.services.group_commit import GroupCommit
from stockpool.services.webhooks_in import WebhookRegistry
from stockpool.store import migrate
from stockpool.store.engine import create_store_engine, parse_database_url
from stockpool.store.uow import SqlUnitOfWorkFactory
from stockpool.sync.webhooks import registry as sync_webhook_registry

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
    factory = SqlUnitOfWorkFactory(engine)
    # One batch at a time on both databases. SQLite has one writer. On PostgreSQL a batch
    # pipelines its writes (few round trips), and a second batch running beside it would
    # mostly wait for the first one's row locks on the best sellers (measured: slower with
    # two or three lanes, at 8 and at 64 concurrent callers).
    return Services(
        uow=factory,
        clock=system_clock,
        reservations=GroupCommit(turn=factory.writer_turn),
        audit_log=GroupCommit(turn=factory.writer_turn),
    )


MIB = 1024 * 1024
App = TypeVar("App")


@dataclass(frozen=True)
class ApiSettings:
    """How the API serves: request size limits, background work, and channel webhooks.

    Attributes:
        max_json_bytes: the largest request body, except uploads (413 above it).
        max_upload_bytes: the largest CSV upload.
        run_workers: run the background tasks (webhook processing and dispatch).
        poll_seconds: how often the live stream and the background tasks look for news.
        webhook_timeout_seconds: how long an outgoing webhook may take to answer.
        webhook_backoff_seconds: the first retry delay of a failed outgoing webhook.
        key_cache_seconds: how long a checked API key is trusted without a lookup
            (a revoked key is refused at once by the process that revoked it).
        telemetry: FastAPI's own OpenTelemetry traces, metrics and logs, for the providers
            the process configures (`STOCKPOOL_TELEMETRY=1` for `stockpool serve`). Off by
            default: stockpool configures none, and the checks cost time on every request.
        webhooks: the verifiers and handlers of channel webhooks.
    """

    max_json_bytes: int = 1 * MIB
    max_upload_bytes: int = 50 * MIB
    run_workers: bool = True
    poll_seconds: float = 0.5
    webhook_timeout_seconds: float = 10.0
    webhook_backoff_seconds: float = 5.0
    key_cache_seconds: float = 5.0
    telemetry: bool = False
    webhooks: WebhookRegistry = field(default_factory=WebhookRegistry)


def build_api(
    factory: Callable[[Services, ApiSettings], App],
    settings: Settings | None = None,
    *,
    api: ApiSettings | None = None,
    pool_size: int = 16,
) -> App:
    """The web application on the configured database.

    The factory is `stockpool.api.app.create_app`; it is passed in because the entry
    points sit above this module and are not imported by it. Without `api`, the app takes
    the default settings and the channel webhook verifiers of `stockpool.sync.webhooks`.
    """
    services = build_services(settings or load_settings(), pool_size=pool_size)
    # The served API verifies channel webhooks with the connectors' own verifiers.
    telemetry = os.environ.get("STOCKPOOL_TELEMETRY", "") in ("1", "true", "yes")
    default = ApiSettings(webhooks=sync_webhook_registry(services), telemetry=telemetry)
    return factory(services, api or default)
