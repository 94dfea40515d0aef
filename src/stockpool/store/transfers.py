"""Transfer documents in the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.orm import aliased

from stockpool.domain.errors import NotFound
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.transfers import Transfer, TransferLine, TransferStatus
from stockpool.store.ids import IdMap
from stockpool.store.tables import items, locations, transfer_lines, transfers

_source = aliased(locations)
_destination = aliased(locations)


class SqlTransfers:
    """Transfer repository on one connection (inside a unit of work)."""

    def __init__(self, connection: Connection, ids: IdMap) -> None:
        self._c = connection
        self._ids = ids

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
    ) -> int:
        """Insert a shipped transfer with its lines; returns its id."""
        transfer_id: int = self._c.execute(
            insert(transfers)
            .values(
                from_location_id=self._ids.location(source),
                to_location_id=self._ids.location(destination),
                status=TransferStatus.IN_TRANSIT.value,
                reference=reference,
                actor=actor,
                created_at=at,
                shipped_at=at,
                expected_at=expected_at,
            )
            .returning(transfers.c.id)
        ).scalar_one()
        self._c.execute(
            insert(transfer_lines),
            [
                {
                    "transfer_id": transfer_id,
                    "item_id": self._ids.item(line.sku),
                    "quantity": line.quantity,
                }
                for line in lines
            ],
        )
        return transfer_id

    def get(self, transfer_id: int) -> Transfer:
        """One transfer with its lines, or NotFound."""
        found = self._load([transfer_id])
        if not found:
            raise NotFound(f"unknown transfer {transfer_id}: see `stockpool transfer list`")
        return found[0]

    def _load(self, ids: list[int]) -> list[Transfer]:
        head = self._c.execute(
            select(transfers, _source.c.code.label("src"), _destination.c.code.label("dst"))
            .join(_source, _source.c.id == transfers.c.from_location_id)
            .join(_destination, _destination.c.id == transfers.c.to_location_id)
            .where(transfers.c.id.in_(ids))
            .order_by(transfers.c.id)
        ).all()
        lines: dict[int, list[TransferLine]] = {}
        for row in self._c.execute(
            select(transfer_lines, items.c.sku)
            .join(items, items.c.id == transfer_lines.c.item_id)
            .where(transfer_lines.c.transfer_id.in_(ids))
            .order_by(items.c.sku)
        ):
            lines.setdefault(row.transfer_id, []).append(
                TransferLine(Sku(row.sku), row.quantity, row.received, row.cancelled)
            )
        return [
            Transfer(
                id=r.id,
                source=LocationCode(r.src),
                destination=LocationCode(r.dst),
                status=TransferStatus(r.status),
                lines=tuple(lines.get(r.id, [])),
                reference=r.reference,
                created_at=r.created_at,
                expected_at=r.expected_at,
            )
            for r in head
        ]

    def update_line(self, transfer_id: int, line: TransferLine) -> None:
        """Store a line's received and cancelled units."""
        self._c.execute(
            update(transfer_lines)
            .where(
                transfer_lines.c.transfer_id == transfer_id,
                transfer_lines.c.item_id == self._ids.item(line.sku),
            )
            .values(received=line.received, cancelled=line.cancelled)
        )

    def set_status(self, transfer_id: int, status: TransferStatus, *, at: datetime) -> None:
        """Store a transfer's status (closing it when received or cancelled)."""
        closed = status in (TransferStatus.RECEIVED, TransferStatus.CANCELLED)
        self._c.execute(
            update(transfers)
            .where(transfers.c.id == transfer_id)
            .values(status=status.value, closed_at=at if closed else None)
        )

    def lock(self, transfer_id: int) -> None:
        """Take the transfer's row lock so concurrent receipts of it queue."""
        query = select(transfers.c.id).where(transfers.c.id == transfer_id)
        if self._c.dialect.name == "postgresql":
            query = query.with_for_update()
        if self._c.execute(query).first() is None:
            raise NotFound(f"unknown transfer {transfer_id}: see `stockpool transfer list`")

    def list(self, *, status: TransferStatus | None, limit: int) -> list[Transfer]:
        """The newest transfers first, optionally of one status."""
        query = select(transfers.c.id).order_by(transfers.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(transfers.c.status == status.value)
        ids = list(self._c.execute(query).scalars())
        return sorted(self._load(ids), key=lambda t: -t.id)
