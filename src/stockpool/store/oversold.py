"""Oversold exceptions and zone distances in the database (part of the order repository).

An exception belongs to one order line; `oversold_items` lists the items that ran short,
with `open` = 1 while the exception is open, so that "which of these items are oversold"
(asked by every ATS recompute) is one indexed lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import Connection, and_, delete, insert, select, update

from stockpool.domain.ids import ChannelCode, ListingId, Sku
from stockpool.domain.orders import OrderLine, OversoldException
from stockpool.store.allocation_tables import channels
from stockpool.store.driver import DriverStatement, bind_list, list_statement
from stockpool.store.ids import IdMap
from stockpool.store.order_tables import (
    order_lines,
    orders,
    oversold_exceptions,
    oversold_items,
    zone_distances,
)
from stockpool.store.tables import items

_CHUNK = 900
# Most of the time no item is oversold: one indexed probe answers every question then.
_ANY_OPEN = DriverStatement("SELECT 1 FROM oversold_items WHERE open = 1 LIMIT 1")
_OPEN_SQL = (
    "SELECT DISTINCT i.sku FROM oversold_items o JOIN items i ON i.id = o.item_id WHERE o.open = 1"
)
_OPEN = DriverStatement(_OPEN_SQL)
_OPEN_OF = list_statement(f"{_OPEN_SQL} AND i.sku IN LIST(:skus)")


class OversoldRecords:
    """Exceptions and zone distances; mixed into the order repository."""

    _c: Connection
    _ids: IdMap
    _oversold_known: dict[Sku, bool]

    def _line_id(self, order_id: int, line_no: int) -> int:
        raise NotImplementedError

    def _channel_id(self, code: ChannelCode) -> int:
        raise NotImplementedError

    def sync_exception(
        self, order_id: int, line: OrderLine, *, short: Mapping[Sku, int], at: datetime
    ) -> None:
        """Open, update or resolve the oversold exception of a line to match `short`."""
        line_id = self._line_id(order_id, line.line_no)
        self._oversold_known.clear()
        current = self._c.execute(
            select(oversold_exceptions.c.id).where(
                oversold_exceptions.c.line_id == line_id,
                oversold_exceptions.c.resolved_at.is_(None),
            )
        ).scalar()
        if current is None and not short:
            return
        if current is None:
            current = self._c.execute(
                insert(oversold_exceptions)
                .values(order_id=order_id, line_id=line_id, missing=line.missing, created_at=at)
                .returning(oversold_exceptions.c.id)
            ).scalar_one()
        elif not short:
            self._c.execute(
                update(oversold_exceptions)
                .where(oversold_exceptions.c.id == current)
                .values(resolved_at=at, missing=0)
            )
            self._c.execute(
                update(oversold_items)
                .where(oversold_items.c.exception_id == current)
                .values(open=0)
            )
            return
        else:
            self._c.execute(
                update(oversold_exceptions)
                .where(oversold_exceptions.c.id == current)
                .values(missing=line.missing)
            )
        self._c.execute(delete(oversold_items).where(oversold_items.c.exception_id == current))
        self._c.execute(
            insert(oversold_items),
            [
                {"exception_id": current, "item_id": self._ids.item(s), "missing": u, "open": 1}
                for s, u in sorted(short.items())
            ],
        )

    def exceptions(
        self, *, include_resolved: bool, channel: ChannelCode | None = None
    ) -> list[OversoldException]:
        """Oversold exceptions, oldest first."""
        e = oversold_exceptions
        query = (
            select(
                e.c.id,
                channels.c.code,
                orders.c.external_id,
                order_lines.c.line_no,
                order_lines.c.listing_id,
                e.c.missing,
                e.c.created_at,
                e.c.resolved_at,
            )
            .join(orders, orders.c.id == e.c.order_id)
            .join(channels, channels.c.id == orders.c.channel_id)
            .join(order_lines, order_lines.c.id == e.c.line_id)
            .order_by(e.c.created_at, e.c.id)
        )
        if not include_resolved:
            query = query.where(e.c.resolved_at.is_(None))
        if channel is not None:
            query = query.where(orders.c.channel_id == self._channel_id(channel))
        rows = list(self._c.execute(query))
        short = self._short_items([r.id for r in rows])
        return [
            OversoldException(
                ChannelCode(code), ext, line_no, ListingId(lid), missing, short.get(i, {}), c, r
            )
            for i, code, ext, line_no, lid, missing, c, r in rows
        ]

    def _short_items(self, ids: list[int]) -> dict[int, dict[Sku, int]]:
        found: dict[int, dict[Sku, int]] = {}
        for start in range(0, len(ids), _CHUNK):
            query = (
                select(oversold_items.c.exception_id, items.c.sku, oversold_items.c.missing)
                .join(items, items.c.id == oversold_items.c.item_id)
                .where(oversold_items.c.exception_id.in_(ids[start : start + _CHUNK]))
            )
            for exception_id, sku, missing in self._c.execute(query):
                found.setdefault(exception_id, {})[Sku(sku)] = missing
        return found

    def open_exception_orders(self) -> list[tuple[ChannelCode, str]]:
        """(channel, external id) of every order with an open exception, oldest first."""
        query = (
            select(channels.c.code, orders.c.external_id)
            .select_from(oversold_exceptions)
            .join(orders, orders.c.id == oversold_exceptions.c.order_id)
            .join(channels, channels.c.id == orders.c.channel_id)
            .where(oversold_exceptions.c.resolved_at.is_(None))
            .order_by(oversold_exceptions.c.created_at, oversold_exceptions.c.id)
        )
        seen: dict[tuple[ChannelCode, str], None] = {}
        for code, ext in self._c.execute(query):
            seen.setdefault((ChannelCode(code), ext), None)
        return list(seen)

    def oversold_items(self, skus: Iterable[Sku] | None) -> set[Sku]:
        """The items (of `skus`, or all) with an open oversold exception.

        Answers are remembered for the rest of the unit of work (until an exception
        changes in it): a reservation asks, then the ATS recompute asks again.
        """
        if skus is None:
            return {Sku(sku) for (sku,) in _OPEN.rows(self._c, {})}
        wanted = set(skus)
        unknown = sorted(wanted - self._oversold_known.keys())
        if unknown and _ANY_OPEN.run(self._c, {}) is None:
            self._oversold_known.update((sku, False) for sku in unknown)
        elif unknown:
            rows = _OPEN_OF.rows(self._c, {"skus": bind_list(self._c, unknown)})
            found = {Sku(s) for (s,) in rows}
            self._oversold_known.update((sku, sku in found) for sku in unknown)
        return {sku for sku in wanted if self._oversold_known[sku]}

    # -- zone distances --------------------------------------------------------------------
    def zone_distances(self) -> dict[tuple[str, str], int]:
        """Every zone distance, keyed by the two zones in sorted order."""
        return {
            (a, b): d
            for a, b, d in self._c.execute(
                select(zone_distances.c.zone_a, zone_distances.c.zone_b, zone_distances.c.distance)
            )
        }

    def set_zone_distance(self, zones: tuple[str, str], distance: int) -> None:
        """Set the distance between two zones (given in sorted order)."""
        a, b = zones
        where = and_(zone_distances.c.zone_a == a, zone_distances.c.zone_b == b)
        if self._c.execute(select(zone_distances.c.distance).where(where)).first():
            self._c.execute(update(zone_distances).where(where).values(distance=distance))
        else:
            self._c.execute(insert(zone_distances).values(zone_a=a, zone_b=b, distance=distance))
