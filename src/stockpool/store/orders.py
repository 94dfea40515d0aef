"""Orders, their lines and commitments, oversold exceptions and zone distances in the database.

Commitments are kept per (order line, item, location): the sum of the open ones is the
`committed` balance of each stock level, which `stockpool verify` rebuilds from them. The
hottest statements (the order header, its lines and commitments) run on the driver.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.orders import (
    Commitment,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
)
from stockpool.store.allocation_tables import channels
from stockpool.store.driver import (
    BulkInsert,
    DriverStatement,
    WriteChecks,
    bind_datetime,
    bind_list,
    list_statement,
)
from stockpool.store.ids import IdMap
from stockpool.store.order_tables import (
    order_commitments,
    order_events,
    order_lines,
    orders,
)
from stockpool.store.oversold import OversoldRecords
from stockpool.store.tables import items, locations

_ADD_LINE = DriverStatement(
    "INSERT INTO order_lines (order_id, line_no, listing_id, sku, components, quantity, "
    "shipped, cancelled, returned) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0) RETURNING id"
)
_ADD_LINES = BulkInsert(
    "order_lines",
    [
        ("order_id", "bigint"),
        ("line_no", "integer"),
        ("listing_id", "text"),
        ("sku", "text"),
        ("components", "json"),
        ("quantity", "bigint"),
        ("shipped", "bigint"),
        ("cancelled", "bigint"),
        ("returned", "bigint"),
    ],
)
_LINE_IDS = list_statement(
    "SELECT id, order_id, line_no FROM order_lines WHERE order_id IN LIST(:orders)"
)
_COMMIT_COLUMNS = ("line_id", "item_id", "location_id", "committed", "shipped", "returned")
_COMMIT_MERGE = (
    "ON CONFLICT (line_id, item_id, location_id) DO UPDATE SET "
    "committed = order_commitments.committed + excluded.committed, "
    "shipped = order_commitments.shipped + excluded.shipped, "
    "returned = order_commitments.returned + excluded.returned"
)
_COMMIT = BulkInsert(
    "order_commitments", [(name, "bigint") for name in _COMMIT_COLUMNS], suffix=_COMMIT_MERGE
)
# PostgreSQL: commitments look up their lines' ids themselves, so that lines just sent need
# not be read back first (both writes then travel in one pipeline). Each row comes back, and
# the count is checked.
_COMMIT_BY_LINE_POSTGRES = DriverStatement(
    f"INSERT INTO order_commitments ({', '.join(_COMMIT_COLUMNS)}) "
    "SELECT l.id, v.item_id, v.location_id, v.units, 0, 0 FROM unnest("
    "CAST(:orders AS bigint[]), CAST(:lines AS integer[]), CAST(:items AS bigint[]), "
    "CAST(:locations AS bigint[]), CAST(:units AS bigint[])) "
    "AS v(order_id, line_no, item_id, location_id, units) "
    "JOIN order_lines l ON l.order_id = v.order_id AND l.line_no = v.line_no "
    f"ORDER BY l.id, v.item_id, v.location_id {_COMMIT_MERGE} RETURNING line_id"
)

_CHANGE = DriverStatement(
    "UPDATE order_commitments SET committed = committed + :committed, "
    "shipped = shipped + :shipped, returned = returned + :returned "
    "WHERE line_id = :line_id AND item_id = :item_id AND location_id = :location_id"
)


_SORTED_JSON = json.JSONEncoder(sort_keys=True).encode  # json.dumps makes one per call


def _components_json(components: Iterable[tuple[Sku, int]]) -> str:
    return _SORTED_JSON(dict(components))


def _line_values(order_id: int, line: OrderLine) -> tuple[Any, ...]:
    """A new line's order id, line no, listing, SKU, components and quantity."""
    components = _components_json(line.components)
    return (order_id, line.line_no, line.listing_id, line.sku, components, line.quantity)


@lru_cache(maxsize=64)
def _claim_statement(count: int) -> DriverStatement:
    """The insert of `count` order headers (one statement per batch size, made once)."""
    values = ", ".join(
        f"(:c{n}, :e{n}, :kind, :status, :z{n}, :updated, :at, :at)" for n in range(count)
    )
    return DriverStatement(
        "INSERT INTO orders (channel_id, external_id, kind, status, ship_to_zone, "
        f"channel_updated_at, created_at, updated_at) VALUES {values} "
        "ON CONFLICT (channel_id, external_id) DO NOTHING "
        "RETURNING id, channel_id, external_id"
    )


class SqlOrders(OversoldRecords):
    """Order repository on one connection (inside a unit of work).

    Oversold exceptions and zone distances come from `OversoldRecords`.
    """

    def __init__(
        self, connection: Connection, ids: IdMap, checks: WriteChecks | None = None
    ) -> None:
        self._c = connection
        self._ids = ids
        self._checks = WriteChecks() if checks is None else checks
        self._line_ids: dict[tuple[int, int], int] = {}
        self._oversold_known: dict[Sku, bool] = {}

    def _channel_id(self, code: ChannelCode) -> int:
        return self._ids.channel(code)

    # -- orders ----------------------------------------------------------------------------
    def claim(
        self,
        channel: ChannelCode,
        external_id: str,
        *,
        kind: OrderKind,
        ship_to_zone: str | None,
        channel_updated_at: datetime | None,
        at: datetime,
    ) -> int | None:
        """Insert an order header; None if the channel has an order with that id already.

        On PostgreSQL a concurrent insert of the same id waits for the other transaction.
        """
        claimed = self.claim_many(
            [(channel, external_id, ship_to_zone)],
            kind=kind,
            at=at,
            channel_updated_at=channel_updated_at,
        )
        return claimed.get((channel, external_id))

    def claim_many(
        self,
        claims: Sequence[tuple[ChannelCode, str, str | None]],
        *,
        kind: OrderKind,
        at: datetime,
        channel_updated_at: datetime | None = None,
    ) -> dict[tuple[ChannelCode, str], int]:
        """Insert the headers of new orders (channel, external id, ship-to zone) with one
        statement, in the given order; the ids of the ones inserted (the others exist)."""
        if not claims:
            return {}
        params: dict[str, Any] = {
            "kind": kind.value,
            "status": OrderStatus.OPEN.value,
            "at": bind_datetime(self._c, at),
            "updated": None
            if channel_updated_at is None
            else bind_datetime(self._c, channel_updated_at),
        }
        for n, (channel, external_id, zone) in enumerate(claims):
            params.update({f"c{n}": self._channel_id(channel), f"e{n}": external_id, f"z{n}": zone})
        codes = {self._channel_id(channel): channel for channel, _, _ in claims}
        inserted = _claim_statement(len(claims)).rows(self._c, params)
        return {(codes[c], e): int(i) for i, c, e in inserted}

    def add_lines(self, lines: Sequence[tuple[int, OrderLine]]) -> None:
        """Record new lines of orders (order id, line), nothing committed yet, at once."""
        if not lines:
            return
        _ADD_LINES.insert(
            self._c, [(*_line_values(order_id, line), 0, 0, 0) for order_id, line in lines]
        )
        if self._c.dialect.name == "postgresql":  # commitments find their ids themselves
            return
        wanted = sorted({order_id for order_id, _ in lines})
        found = _LINE_IDS.rows(self._c, {"orders": bind_list(self._c, wanted)})
        self._line_ids.update(((o, n), int(i)) for i, o, n in found)

    def add_commitments(self, rows: Sequence[tuple[int, int, Sku, LocationCode, int]]) -> None:
        """Commit units to lines at once: (order id, line no, SKU, location, units > 0)."""
        merged: dict[tuple[int, int, Sku, LocationCode], int] = {}  # one row per line level
        for order_id, line_no, sku, location, units in rows:
            key = (order_id, line_no, sku, location)
            merged[key] = merged.get(key, 0) + units
        if self._c.dialect.name == "postgresql":
            self._commit_by_line(merged)
            return
        _COMMIT.insert(
            self._c,
            [
                (self._line_id(o, n), self._ids.item(s), self._ids.location(loc), units, 0, 0)
                for (o, n, s, loc), units in merged.items()
            ],
        )

    def _commit_by_line(self, merged: dict[tuple[int, int, Sku, LocationCode], int]) -> None:
        if not merged:
            return
        keys = list(merged)
        params = {
            "orders": [o for o, _, _, _ in keys],
            "lines": [n for _, n, _, _ in keys],
            "items": [self._ids.item(s) for _, _, s, _ in keys],
            "locations": [self._ids.location(loc) for _, _, _, loc in keys],
            "units": list(merged.values()),
        }
        cursor = _COMMIT_BY_LINE_POSTGRES.send(self._c, params)

        def check() -> None:
            try:
                written = len(cursor.fetchall())
            finally:
                cursor.close()
            if written != len(keys):
                raise RuntimeError(f"{len(keys) - written} commitments found no order line")

        self._checks.add(check)

    def _commitment(
        self,
        order_id: int,
        line_no: int,
        sku: Sku,
        location: LocationCode,
        committed: int,
        shipped: int = 0,
        returned: int = 0,
    ) -> dict[str, Any]:
        """The parameters of a commitment's insert or change."""
        return {
            "line_id": self._line_id(order_id, line_no),
            "item_id": self._ids.item(sku),
            "location_id": self._ids.location(location),
            "committed": committed,
            "shipped": shipped,
            "returned": returned,
        }

    def drop_claims(self, order_ids: Sequence[int]) -> None:
        """Delete order headers claimed in this unit of work that got no lines (refused)."""
        if order_ids:
            self._c.execute(delete(orders).where(orders.c.id.in_(list(order_ids))))

    def find(
        self, channel: ChannelCode, external_id: str, *, lock: bool = False
    ) -> tuple[int, Order] | None:
        """An order with its lines and commitments, locked (PostgreSQL) with `lock`."""
        query = select(orders).where(
            orders.c.channel_id == self._channel_id(channel), orders.c.external_id == external_id
        )
        if lock and self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        row = self._c.execute(query).first()
        if row is None:
            return None
        return row.id, self._order(row, channel)

    def _order(self, row: Any, channel: ChannelCode) -> Order:
        lines = self._lines([row.id]).get(row.id, ())
        return Order(
            channel=channel,
            external_id=row.external_id,
            kind=OrderKind(row.kind),
            status=OrderStatus(row.status),
            lines=tuple(lines),
            created_at=row.created_at,
            updated_at=row.updated_at,
            ship_to_zone=row.ship_to_zone,
            channel_updated_at=row.channel_updated_at,
        )

    def _lines(self, order_ids: list[int]) -> dict[int, list[OrderLine]]:
        found: dict[int, list[OrderLine]] = {}
        if not order_ids:
            return found
        held = self._commitments(order_ids)
        query = (
            select(order_lines)
            .where(order_lines.c.order_id.in_(order_ids))
            .order_by(order_lines.c.order_id, order_lines.c.line_no)
        )
        for r in self._c.execute(query):
            self._line_ids[(r.order_id, r.line_no)] = r.id
            components = tuple(sorted((Sku(s), int(q)) for s, q in dict(r.components).items()))
            found.setdefault(r.order_id, []).append(
                OrderLine(
                    line_no=r.line_no,
                    listing_id=ListingId(r.listing_id),
                    sku=Sku(r.sku),
                    components=components,
                    quantity=r.quantity,
                    shipped=r.shipped,
                    cancelled=r.cancelled,
                    returned=r.returned,
                    commitments=tuple(held.get(r.id, ())),
                )
            )
        return found

    def _commitments(self, order_ids: list[int]) -> dict[int, list[Commitment]]:
        query = (
            select(
                order_commitments.c.line_id,
                items.c.sku,
                locations.c.code,
                order_commitments.c.committed,
                order_commitments.c.shipped,
                order_commitments.c.returned,
            )
            .join(order_lines, order_lines.c.id == order_commitments.c.line_id)
            .join(items, items.c.id == order_commitments.c.item_id)
            .join(locations, locations.c.id == order_commitments.c.location_id)
            .where(order_lines.c.order_id.in_(order_ids))
            .order_by(order_commitments.c.line_id, locations.c.priority, locations.c.code)
        )
        found: dict[int, list[Commitment]] = {}
        for line_id, sku, code, committed, shipped, returned in self._c.execute(query):
            found.setdefault(line_id, []).append(
                Commitment(Sku(sku), LocationCode(code), committed, shipped, returned)
            )
        return found

    def add_line(self, order_id: int, line: OrderLine) -> None:
        """Record a new line of an order (with nothing committed yet)."""
        row = _ADD_LINE.run(self._c, _line_values(order_id, line))
        assert row is not None
        self._line_ids[(order_id, line.line_no)] = int(row[0])

    def _line_id(self, order_id: int, line_no: int) -> int:
        found = self._line_ids.get((order_id, line_no))
        if found is None:
            found = self._c.execute(
                select(order_lines.c.id).where(
                    order_lines.c.order_id == order_id, order_lines.c.line_no == line_no
                )
            ).scalar_one()
            self._line_ids[(order_id, line_no)] = found
        return found

    def update_line(self, order_id: int, line: OrderLine) -> None:
        """Store a line's quantity and its shipped, cancelled and returned units."""
        self._c.execute(
            update(order_lines)
            .where(order_lines.c.id == self._line_id(order_id, line.line_no))
            .values(
                quantity=line.quantity,
                shipped=line.shipped,
                cancelled=line.cancelled,
                returned=line.returned,
            )
        )

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
    ) -> None:
        """Add (signed) units to one commitment of a line (taking only from one held)."""
        # Only a new commitment may create the row; SQLite checks an upsert's new row first.
        fresh = committed > 0 and shipped == 0 and returned == 0
        row = self._commitment(order_id, line_no, sku, location, committed, shipped, returned)
        if fresh:
            _COMMIT.insert(self._c, [tuple(row[name] for name in _COMMIT_COLUMNS)])
        else:
            _CHANGE.run(self._c, row)

    def set_state(
        self,
        order_id: int,
        status: OrderStatus,
        *,
        at: datetime,
        channel_updated_at: datetime | None = None,
    ) -> None:
        """Store an order's status (and the channel's update time of what was applied)."""
        values: dict[str, Any] = {"status": status.value, "updated_at": at}
        if channel_updated_at is not None:
            values["channel_updated_at"] = channel_updated_at
        self._c.execute(update(orders).where(orders.c.id == order_id).values(**values))

    def record_event(self, order_id: int, reference: str, *, at: datetime) -> bool:
        """Remember that a transition with this reference was applied; False if it was."""
        done = self._c.execute(
            select(order_events.c.at).where(
                order_events.c.order_id == order_id, order_events.c.reference == reference
            )
        ).first()
        if done is not None:
            return False
        self._c.execute(insert(order_events).values(order_id=order_id, reference=reference, at=at))
        return True

    def list_orders(
        self,
        *,
        channel: ChannelCode | None,
        status: OrderStatus | None,
        limit: int,
        before_id: int | None = None,
    ) -> list[tuple[int, Order]]:
        """The newest orders first (ids below `before_id`), with their lines."""
        query = (
            select(orders, channels.c.code.label("channel_code"))
            .join(channels, channels.c.id == orders.c.channel_id)
            .order_by(orders.c.id.desc())
            .limit(limit)
        )
        if channel is not None:
            query = query.where(orders.c.channel_id == self._channel_id(channel))
        if status is not None:
            query = query.where(orders.c.status == status.value)
        if before_id is not None:
            query = query.where(orders.c.id < before_id)
        rows = list(self._c.execute(query))
        lines = self._lines([r.id for r in rows])
        return [
            (
                r.id,
                Order(
                    channel=ChannelCode(r.channel_code),
                    external_id=r.external_id,
                    kind=OrderKind(r.kind),
                    status=OrderStatus(r.status),
                    lines=tuple(lines.get(r.id, ())),
                    created_at=r.created_at,
                    updated_at=r.updated_at,
                    ship_to_zone=r.ship_to_zone,
                    channel_updated_at=r.channel_updated_at,
                ),
            )
            for r in rows
        ]
