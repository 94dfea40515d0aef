"""The unit of work: one database transaction and the repositories that work inside it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import cached_property
from types import TracebackType
from typing import Any, Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from stockpool.domain.errors import StockpoolError
from stockpool.store.access import SqlAccess
from stockpool.store.ats import SqlAts
from stockpool.store.catalog import SqlCatalog
from stockpool.store.channels import SqlChannels
from stockpool.store.counts import SqlCounts
from stockpool.store.driver import PIPELINE, WriteChecks
from stockpool.store.engine import writer_turn
from stockpool.store.events import SqlEvents
from stockpool.store.ids import IdCache, IdMap
from stockpool.store.orders import SqlOrders
from stockpool.store.purchasing import SqlPurchasing
from stockpool.store.rules import SqlRules
from stockpool.store.stock import SqlStock
from stockpool.store.sync import SqlSync
from stockpool.store.transfers import SqlTransfers


class ConstraintViolation(StockpoolError):
    """The database refused a write that broke one of its constraints."""


class SqlUnitOfWork:
    """A transaction on `engine`; rolls back unless `commit()` is called."""

    connection: Connection

    def __init__(self, engine: Engine, cache: IdCache) -> None:
        self._engine = engine
        self._cache = cache

    def __enter__(self) -> Self:
        self.memo: dict[object, object] = {}
        self._checks = WriteChecks()
        self.connection = self._engine.connect()
        self.connection.begin()
        return self

    # Repositories are made when first used: most units of work need two or three of them.
    @cached_property
    def _ids(self) -> IdMap:
        return IdMap(self.connection, self._cache)

    @cached_property
    def catalog(self) -> SqlCatalog:
        return SqlCatalog(self.connection)

    @cached_property
    def stock(self) -> SqlStock:
        return SqlStock(self.connection, self._ids, self._checks)

    @cached_property
    def transfers(self) -> SqlTransfers:
        return SqlTransfers(self.connection, self._ids)

    @cached_property
    def purchasing(self) -> SqlPurchasing:
        return SqlPurchasing(self.connection, self._ids)

    @cached_property
    def counts(self) -> SqlCounts:
        return SqlCounts(self.connection, self._ids)

    @cached_property
    def channels(self) -> SqlChannels:
        return SqlChannels(self.connection, self._ids)

    @cached_property
    def rules(self) -> SqlRules:
        return SqlRules(self.connection)

    @cached_property
    def ats(self) -> SqlAts:
        return SqlAts(self.connection, self._ids)

    @cached_property
    def orders(self) -> SqlOrders:
        return SqlOrders(self.connection, self._ids, self._checks)

    @cached_property
    def access(self) -> SqlAccess:
        return SqlAccess(self.connection)

    @cached_property
    def events(self) -> SqlEvents:
        return SqlEvents(self.connection)

    @cached_property
    def sync(self) -> SqlSync:
        return SqlSync(self.connection)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.connection.in_transaction():
                self.connection.rollback()
        finally:
            self.connection.close()
        if isinstance(exc, IntegrityError):
            raise ConstraintViolation(f"the database refused the change: {exc.orig}") from exc

    def pipeline(self) -> AbstractContextManager[Any]:
        """Send the statements of the block without waiting for each one's answer.

        On PostgreSQL the block runs in psycopg's pipeline mode: its writes go to the server
        back to back, and their answers (and errors) come back with one round trip at the
        end of the block, or sooner where a statement's rows are read inside it. The
        row-count checks of conditional writes sent in the block are made at its end. On
        SQLite, which has no round trips to save, statements run as they come.
        """
        if self.connection.dialect.name != "postgresql":
            return nullcontext()
        return self._pipelined()

    @contextmanager
    def _pipelined(self) -> Iterator[None]:
        driver = self.connection.connection.driver_connection
        self._checks.deferring = True
        try:
            with driver.pipeline() as pipeline:  # type: ignore[union-attr]
                self.connection.info[PIPELINE] = pipeline
                try:
                    yield
                finally:
                    del self.connection.info[PIPELINE]
        finally:
            self._checks.deferring = False
        self._checks.run()

    def commit(self) -> None:
        """Commit everything done in this unit of work."""
        self._checks.run()  # no conditional write commits unchecked
        self.connection.commit()
        if "_ids" in self.__dict__:  # only if this unit of work resolved any key
            self._ids.publish()


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = IdCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._cache)

    def writer_turn(self) -> AbstractContextManager[None]:
        """Hold the database's writer turn across several units of work of this thread."""
        return writer_turn(self.engine)
