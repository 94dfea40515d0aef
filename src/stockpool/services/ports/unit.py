"""The unit of work, which gives every repository inside one transaction."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from stockpool.services.ports.access import AccessRepository, EventRepository
from stockpool.services.ports.allocation import AtsRepository, ChannelRepository, RuleRepository
from stockpool.services.ports.documents import CountRepository, PurchasingRepository
from stockpool.services.ports.ledger import (
    CatalogRepository,
    StockRepository,
    TransferRepository,
)
from stockpool.services.ports.orders import OrderRepository
from stockpool.services.ports.sync import (
    SyncRepository,
)


class UnitOfWork(Protocol):
    """One database transaction: everything in it commits together or not at all."""

    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def stock(self) -> StockRepository: ...
    @property
    def transfers(self) -> TransferRepository: ...
    @property
    def purchasing(self) -> PurchasingRepository: ...
    @property
    def counts(self) -> CountRepository: ...
    @property
    def channels(self) -> ChannelRepository: ...
    @property
    def rules(self) -> RuleRepository: ...
    @property
    def ats(self) -> AtsRepository: ...
    @property
    def orders(self) -> OrderRepository: ...
    @property
    def access(self) -> AccessRepository: ...
    @property
    def events(self) -> EventRepository: ...
    @property
    def sync(self) -> SyncRepository: ...

    @property
    def memo(self) -> dict[object, object]:
        """Values computed once per unit of work (dropped with it)."""
        ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def pipeline(self) -> AbstractContextManager[object]:
        """Send the block's statements without waiting for each answer (where the database
        has round trips to save); conditional writes are checked at its end."""
        ...

    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work on one database."""

    def __call__(self) -> UnitOfWork: ...
    def writer_turn(self) -> AbstractContextManager[None]:
        """Hold the database's writer turn across several units of work of this thread,
        where writers queue for the whole database (SQLite); a no-op elsewhere."""
        ...


class Clock(Protocol):
    """The time now (injected: the domain never reads the clock)."""

    def __call__(self) -> datetime: ...
