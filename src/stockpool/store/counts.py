"""Count documents in the database, and the ledger questions a reconciliation asks."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Row, func, insert, or_, select, tuple_, update

from stockpool.domain.counts import Count, CountLine, CountLineStatus, Threshold
from stockpool.domain.errors import NotFound
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import LevelKey
from stockpool.domain.purchasing import INCOMING_STATUSES
from stockpool.domain.transfers import OPEN_STATUSES
from stockpool.store.ids import IdMap
from stockpool.store.purchasing_tables import (
    count_lines,
    counts,
    purchase_order_lines,
    purchase_orders,
)
from stockpool.store.tables import items, locations, movements, transfer_lines, transfers

CHUNK = 500


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _line(row: Row[Any]) -> CountLine:
    return CountLine(
        sku=Sku(row.sku),
        location=LocationCode(row.code),
        counted=row.counted,
        counted_at=row.counted_at,
        expected=row.expected,
        unit_cost=row.unit_cost,
        status=CountLineStatus(row.status),
        flags=tuple(json.loads(row.flags)),
    )


class SqlCounts:
    """Count repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection, ids: IdMap) -> None:
        self._c = connection
        self._ids = ids

    def create(
        self, *, reference: str, reason: str, actor: str, threshold: Threshold, at: datetime
    ) -> int:
        """Insert a count document; returns its id."""
        count_id: int = self._c.execute(
            insert(counts)
            .values(
                reference=reference,
                reason=reason,
                actor=actor,
                threshold_units=threshold.units,
                threshold_value=threshold.value,
                created_at=at,
            )
            .returning(counts.c.id)
        ).scalar_one()
        return count_id

    def add_lines(self, count_id: int, lines: Sequence[CountLine]) -> None:
        """Store the reconciled lines of a count."""
        self._c.execute(
            insert(count_lines),
            [
                {
                    "count_id": count_id,
                    "item_id": self._ids.item(line.sku),
                    "location_id": self._ids.location(line.location),
                    "counted": line.counted,
                    "counted_at": line.counted_at,
                    "expected": line.expected,
                    "unit_cost": line.unit_cost,
                    "status": line.status.value,
                    "flags": json.dumps(list(line.flags)),
                }
                for line in lines
            ],
        )

    def get(self, count_id: int) -> Count:
        """One count with its lines, or NotFound."""
        head = self._c.execute(select(counts).where(counts.c.id == count_id)).first()
        if head is None:
            raise NotFound(f"unknown count {count_id}: see `stockpool count list`")
        rows = self._c.execute(
            select(count_lines, items.c.sku, locations.c.code)
            .join(items, items.c.id == count_lines.c.item_id)
            .join(locations, locations.c.id == count_lines.c.location_id)
            .where(count_lines.c.count_id == count_id)
            .order_by(items.c.sku, locations.c.code)
        )
        return Count(
            id=head.id,
            reference=head.reference,
            reason=head.reason,
            threshold=Threshold(head.threshold_units, head.threshold_value),
            created_at=head.created_at,
            lines=tuple(_line(r) for r in rows),
        )

    def recent(self, *, limit: int) -> list[Count]:
        """The newest counts first."""
        ids = self._c.execute(select(counts.c.id).order_by(counts.c.id.desc()).limit(limit))
        return [self.get(i) for i in ids.scalars()]

    def decide(
        self,
        count_id: int,
        key: LevelKey,
        status: CountLineStatus,
        *,
        actor: str,
        at: datetime,
    ) -> None:
        """Store the approval or rejection of one line."""
        self._c.execute(
            update(count_lines)
            .where(
                count_lines.c.count_id == count_id,
                count_lines.c.item_id == self._ids.item(key[0]),
                count_lines.c.location_id == self._ids.location(key[1]),
            )
            .values(status=status.value, decided_by=actor, decided_at=at)
        )

    def moved_since(self, since: Sequence[tuple[LevelKey, datetime]]) -> dict[LevelKey, int]:
        """Per level, the sum of movements posted after the given time."""
        found: dict[LevelKey, int] = {}
        ordered = sorted(since, key=lambda pair: pair[1])
        for moment, group in groupby(ordered, key=lambda pair: pair[1]):
            keys = {(self._ids.item(k[0]), self._ids.location(k[1])): k for k, _ in group}
            for chunk in _chunks(list(keys)):
                query = (
                    select(
                        movements.c.item_id, movements.c.location_id, func.sum(movements.c.quantity)
                    )
                    .where(
                        tuple_(movements.c.item_id, movements.c.location_id).in_(chunk),
                        movements.c.at > moment,
                    )
                    .group_by(movements.c.item_id, movements.c.location_id)
                )
                for item_id, location_id, total in self._c.execute(query):
                    found[keys[(item_id, location_id)]] = int(total)
        return found

    def open_documents(self, keys: Sequence[LevelKey]) -> dict[LevelKey, list[str]]:
        """Open transfers and purchase orders touching each item at each location."""
        wanted = set(keys)
        found: dict[LevelKey, list[str]] = {}
        for sku, code, text in [*self._open_transfers(wanted), *self._open_pos(wanted)]:
            if (sku, code) in wanted:
                found.setdefault((sku, code), []).append(text)
        return found

    def _open_transfers(self, wanted: set[LevelKey]) -> list[tuple[Sku, LocationCode, str]]:
        skus = sorted({sku for sku, _ in wanted})
        rows: list[tuple[Sku, LocationCode, str]] = []
        for chunk in _chunks(skus):
            query = (
                select(transfers, items.c.sku, locations.c.code)
                .select_from(transfer_lines)
                .join(transfers, transfers.c.id == transfer_lines.c.transfer_id)
                .join(items, items.c.id == transfer_lines.c.item_id)
                .join(
                    locations,
                    or_(
                        locations.c.id == transfers.c.from_location_id,
                        locations.c.id == transfers.c.to_location_id,
                    ),
                )
                .where(
                    items.c.sku.in_(chunk),
                    transfers.c.status.in_([s.value for s in OPEN_STATUSES]),
                )
                .order_by(transfers.c.id)
            )
            for r in self._c.execute(query):
                rows.append((Sku(r.sku), LocationCode(r.code), f"transfer {r.id} ({r.status})"))
        return rows

    def _open_pos(self, wanted: set[LevelKey]) -> list[tuple[Sku, LocationCode, str]]:
        skus = sorted({sku for sku, _ in wanted})
        rows: list[tuple[Sku, LocationCode, str]] = []
        for chunk in _chunks(skus):
            query = (
                select(
                    purchase_orders.c.id, purchase_orders.c.status, items.c.sku, locations.c.code
                )
                .select_from(purchase_order_lines)
                .join(purchase_orders, purchase_orders.c.id == purchase_order_lines.c.po_id)
                .join(items, items.c.id == purchase_order_lines.c.item_id)
                .join(locations, locations.c.id == purchase_orders.c.location_id)
                .where(
                    items.c.sku.in_(chunk),
                    purchase_orders.c.status.in_([s.value for s in INCOMING_STATUSES]),
                )
                .order_by(purchase_orders.c.id)
            )
            for r in self._c.execute(query):
                rows.append((Sku(r.sku), LocationCode(r.code), f"PO {r.id} ({r.status})"))
        return rows
