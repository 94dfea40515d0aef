"""Ports of orders, commitments and oversold exceptions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.domain.orders import Order, OrderKind, OrderLine, OrderStatus, OversoldException


class OrderRepository(Protocol):
    """Orders, their lines and commitments, oversold exceptions and zone distances."""

    def claim(
        self,
        channel: ChannelCode,
        external_id: str,
        *,
        kind: OrderKind,
        ship_to_zone: str | None,
        channel_updated_at: datetime | None,
        at: datetime,
    ) -> int | None: ...
    def claim_many(
        self,
        claims: Sequence[tuple[ChannelCode, str, str | None]],
        *,
        kind: OrderKind,
        at: datetime,
    ) -> dict[tuple[ChannelCode, str], int]: ...
    def add_lines(self, lines: Sequence[tuple[int, OrderLine]]) -> None: ...
    def add_commitments(self, rows: Sequence[tuple[int, int, Sku, LocationCode, int]]) -> None: ...
    def drop_claims(self, order_ids: Sequence[int]) -> None: ...
    def find(
        self, channel: ChannelCode, external_id: str, *, lock: bool = False
    ) -> tuple[int, Order] | None: ...
    def add_line(self, order_id: int, line: OrderLine) -> None: ...
    def update_line(self, order_id: int, line: OrderLine) -> None: ...
    def change_commitment(
        self,
        order_id: int,
        line_no: int,
        sku: Sku,
        location: LocationCode,
        *,
        committed: int = 0,
        shipped: int = 0,
        returned: int = 0,
    ) -> None: ...
    def set_state(
        self,
        order_id: int,
        status: OrderStatus,
        *,
        at: datetime,
        channel_updated_at: datetime | None = None,
    ) -> None: ...
    def record_event(self, order_id: int, reference: str, *, at: datetime) -> bool: ...
    def list_orders(
        self,
        *,
        channel: ChannelCode | None,
        status: OrderStatus | None,
        limit: int,
        before_id: int | None = None,
    ) -> list[tuple[int, Order]]: ...
    def sync_exception(
        self, order_id: int, line: OrderLine, *, short: Mapping[Sku, int], at: datetime
    ) -> None: ...
    def exceptions(
        self, *, include_resolved: bool, channel: ChannelCode | None = None
    ) -> list[OversoldException]: ...
    def open_exception_orders(self) -> list[tuple[ChannelCode, str]]: ...
    def oversold_items(self, skus: Iterable[Sku] | None) -> set[Sku]: ...
    def zone_distances(self) -> dict[tuple[str, str], int]: ...
    def set_zone_distance(self, zones: tuple[str, str], distance: int) -> None: ...
