"""The unit of work: one database transaction and the repositories that work inside it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError

from stockpool.domain.errors import StockpoolError
from stockpool.store.access import SqlAccess
from stockpool.store.ats import SqlAts
from stockpool.store.catalog import SqlCatalog
from stockpool.store.channels import SqlChannels
from stockpool.store.counts import SqlCounts
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
    catalog: SqlCatalog
    stock: SqlStock
    transfers: SqlTransfers
    purchasing: SqlPurchasing
    counts: SqlCounts
    channels: SqlChannels
    rules: SqlRules
    ats: SqlAts
    orders: SqlOrders
    access: SqlAccess
    events: SqlEvents
    sync: SqlSync

    def __init__(self, engine: Engine, cache: IdCache) -> None:
        self._engine = engine
        self._cache = cache
        self._ids: IdMap | None = None

    def __enter__(self) -> Self:
        self.memo: dict[object, object] = {}
        self.connection = self._engine.connect()
        self.connection.begin()
        self._ids = IdMap(self.connection, self._cache)
        self.catalog = SqlCatalog(self.connection)
        self.stock = SqlStock(self.connection, self._ids)
        self.transfers = SqlTransfers(self.connection, self._ids)
        self.purchasing = SqlPurchasing(self.connection, self._ids)
        self.counts = SqlCounts(self.connection, self._ids)
        self.channels = SqlChannels(self.connection, self._ids)
        self.rules = SqlRules(self.connection)
        self.ats = SqlAts(self.connection)
        self.orders = SqlOrders(self.connection, self._ids)
        self.access = SqlAccess(self.connection)
        self.events = SqlEvents(self.connection)
        self.sync = SqlSync(self.connection)
        return self

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

    def commit(self) -> None:
        """Commit everything done in this unit of work."""
        self.connection.commit()
        if self._ids is not None:
            self._ids.publish()


class SqlUnitOfWorkFactory:
    """Opens units of work on one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cache = IdCache()

    def __call__(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._cache)
