"""Shared fixtures: real SQLite files and real PostgreSQL databases, one fresh per test.

PostgreSQL comes from STOCKPOOL_TEST_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test). Each test gets its own database, cloned from a
migrated template. When the server is unreachable, PostgreSQL tests are skipped locally
and FAIL when CI=true: a green CI must have run both stores.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.services.context import Services

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
_counter = itertools.count()


def postgres_url() -> str:
    """The PostgreSQL server tests may use."""
    return os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", DEFAULT_PG)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


class PostgresServer:
    """Creates throwaway databases on the test server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.template = f"stockpool_tmpl_{_worker()}_{os.getpid()}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.url, autocommit=True, connect_timeout=5)

    def url_for(self, database: str) -> str:
        base = self.url.rsplit("/", 1)[0]
        return f"{base}/{database}"

    def create(self, name: str, *, template: str | None = None) -> str:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if template:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A reachable PostgreSQL server with a migrated template database."""
    server = PostgresServer(postgres_url())
    try:
        psycopg.connect(server.url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL unreachable at {server.url}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    url = server.create(server.template)
    engine = initialise(Settings(database_url=url, data_dir=Path(".")))
    engine.dispose()
    yield server
    server.drop(server.template)


def _sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'stockpool.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each store."""
    if request.param == "sqlite":
        url = _sqlite_url(tmp_path)
        initialise(Settings(database_url=url, data_dir=tmp_path)).dispose()
        yield url
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"stockpool_t_{_worker()}_{os.getpid()}_{next(_counter)}"
    url = server.create(name, template=server.template)
    yield url
    server.drop(name)


class FakeClock:
    """A clock that tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    """A controllable clock."""
    return FakeClock()


@pytest.fixture
def app(database_url: str, clock: FakeClock, tmp_path: Path) -> Iterator[Services]:
    """Services on a fresh database of each store, with a fake clock."""
    services = build_services(Settings(database_url=database_url, data_dir=tmp_path))
    services = Services(uow=services.uow, clock=clock)
    yield services
    services.uow.engine.dispose()  # type: ignore[attr-defined]
