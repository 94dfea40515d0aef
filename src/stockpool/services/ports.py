"""What the services need from persistence. The store implements these protocols."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypeVar

from stockpool.domain.catalog import Item, Location
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import LevelKey, Movement, StatusChange, StockDelta
from stockpool.domain.quantities import StockState, UnavailableReason
from stockpool.domain.transfers import Transfer, TransferLine, TransferStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, and the cursor of the next (None on the last page)."""

    rows: list[T]
    next_cursor: str | None


class CatalogRepository(Protocol):
    """Items and locations."""

    def add_item(self, item: Item, *, at: datetime) -> None: ...
    def update_item(self, sku: Sku, changes: Mapping[str, Any], *, at: datetime) -> Item: ...
    def get_item(self, sku: Sku) -> Item: ...
    def list_items(
        self, *, include_archived: bool, after: str | None, limit: int, tag: str | None = None
    ) -> Page[Item]: ...
    def add_location(self, location: Location, *, at: datetime) -> None: ...
    def update_location(
        self, code: LocationCode, changes: Mapping[str, Any], *, at: datetime
    ) -> Location: ...
    def get_location(self, code: LocationCode) -> Location: ...
    def list_locations(self, *, include_archived: bool) -> list[Location]: ...


class StockRepository(Protocol):
    """Balances per item x location and the immutable records behind them."""

    def apply(
        self, sku: Sku, location: LocationCode, delta: StockDelta, *, expect_on_hand: int | None
    ) -> StockState: ...
    def touched(self) -> set[Sku]: ...
    def record_movement(self, movement: Movement) -> None: ...
    def record_status_change(self, change: StatusChange) -> None: ...
    def get_state(self, sku: Sku, location: LocationCode, *, lock: bool = False) -> StockState: ...
    def states_of(self, sku: Sku) -> list[tuple[LocationCode, StockState]]: ...
    def movements_of(
        self, sku: Sku, *, location: LocationCode | None, limit: int
    ) -> list[Movement]: ...
    def stored_levels(self) -> dict[LevelKey, tuple[StockState, int]]: ...
    def movement_totals(self) -> Iterator[tuple[LevelKey, int]]: ...
    def status_totals(self) -> Iterator[tuple[LevelKey, UnavailableReason, int]]: ...
    def open_commitments(self) -> dict[LevelKey, int]: ...
    def open_incoming(self) -> dict[LevelKey, int]: ...


class TransferRepository(Protocol):
    """Transfer documents."""

    def create(
        self,
        source: LocationCode,
        destination: LocationCode,
        lines: Sequence[TransferLine],
        *,
        reference: str,
        actor: str,
        at: datetime,
        expected_at: datetime | None,
    ) -> int: ...
    def get(self, transfer_id: int) -> Transfer: ...
    def lock(self, transfer_id: int) -> None: ...
    def update_line(self, transfer_id: int, line: TransferLine) -> None: ...
    def set_status(self, transfer_id: int, status: TransferStatus, *, at: datetime) -> None: ...
    def list(self, *, status: TransferStatus | None, limit: int) -> list[Transfer]: ...


class UnitOfWork(Protocol):
    """One database transaction: everything in it commits together or not at all."""

    @property
    def catalog(self) -> CatalogRepository: ...
    @property
    def stock(self) -> StockRepository: ...
    @property
    def transfers(self) -> TransferRepository: ...

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def commit(self) -> None: ...


class UnitOfWorkFactory(Protocol):
    """Opens units of work on one database."""

    def __call__(self) -> UnitOfWork: ...


class Clock(Protocol):
    """The time now (injected: the domain never reads the clock)."""

    def __call__(self) -> datetime: ...
