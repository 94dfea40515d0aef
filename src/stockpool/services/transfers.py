"""Use cases of transfers: ship, receive (in parts), cancel."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import MovementKind, StockDelta
from stockpool.domain.quantities import require_units
from stockpool.domain.transfers import (
    Transfer,
    TransferLine,
    TransferStatus,
    plan_receipt,
    require_open,
    status_after,
)
from stockpool.services.context import Services
from stockpool.services.stock import Actor, Posting, commit_stock_change, post_in_key_order


def ship_transfer(
    app: Services,
    source: str,
    destination: str,
    lines: dict[str, int],
    *,
    actor: Actor,
    expected_at: datetime | None = None,
) -> Transfer:
    """Take units off the source's shelf and put them in transit to the destination."""
    if source == destination:
        raise InvalidInput("a transfer needs two different locations")
    if not lines:
        raise InvalidInput("a transfer needs at least one line")
    units = {Sku(sku): require_units(q) for sku, q in lines.items()}
    src, dst = LocationCode(source), LocationCode(destination)
    with app.uow() as uow:
        uow.catalog.get_location(src)
        uow.catalog.get_location(dst)
        transfer_id = uow.transfers.create(
            src,
            dst,
            [TransferLine(sku, q) for sku, q in sorted(units.items())],
            reference=actor.reference,
            actor=actor.name,
            at=app.clock(),
            expected_at=expected_at,
        )
        ref = replace(actor, reference=actor.reference or f"transfer:{transfer_id}")
        postings = []
        for sku, quantity in units.items():
            postings.append(
                Posting(
                    sku,
                    src,
                    MovementKind.TRANSFER_OUT,
                    StockDelta(on_hand=-quantity),
                    f"transfer {transfer_id} to {dst}",
                )
            )
            postings.append(
                Posting(
                    sku, dst, MovementKind.TRANSFER_IN, StockDelta(incoming=quantity), "in transit"
                )
            )
        post_in_key_order(uow, app, postings, actor=ref)
        transfer = uow.transfers.get(transfer_id)
        commit_stock_change(uow, app)
    return transfer


def receive_transfer(
    app: Services, transfer_id: int, quantities: dict[str, int] | None = None, *, actor: Actor
) -> Transfer:
    """Receive units of a transfer at its destination (all in transit when none given)."""
    asked = {Sku(s): require_units(q) for s, q in (quantities or {}).items()}
    with app.uow() as uow:
        uow.transfers.lock(transfer_id)
        transfer = uow.transfers.get(transfer_id)
        receipt = plan_receipt(transfer, asked)
        ref = replace(actor, reference=actor.reference or f"transfer:{transfer_id}")
        lines = []
        postings = []
        for line in transfer.lines:
            quantity = receipt.get(line.sku, 0)
            if quantity:
                postings.append(
                    Posting(
                        line.sku,
                        transfer.destination,
                        MovementKind.TRANSFER_IN,
                        StockDelta(on_hand=quantity, incoming=-quantity),
                        f"transfer {transfer_id} from {transfer.source}",
                    )
                )
                line = replace(line, received=line.received + quantity)
                uow.transfers.update_line(transfer_id, line)
            lines.append(line)
        post_in_key_order(uow, app, postings, actor=ref)
        uow.transfers.set_status(transfer_id, status_after(tuple(lines)), at=app.clock())
        result = uow.transfers.get(transfer_id)
        commit_stock_change(uow, app)
    return result


def cancel_transfer(app: Services, transfer_id: int, *, actor: Actor) -> Transfer:
    """Return everything still in transit to the source and close the transfer."""
    with app.uow() as uow:
        uow.transfers.lock(transfer_id)
        transfer = uow.transfers.get(transfer_id)
        require_open(transfer)
        ref = replace(actor, reference=actor.reference or f"transfer:{transfer_id}")
        lines = []
        postings = []
        for line in transfer.lines:
            back = line.in_transit
            if back:
                reason = f"transfer {transfer_id} cancelled: back from transit"
                postings.append(
                    Posting(
                        line.sku,
                        transfer.destination,
                        MovementKind.TRANSFER_IN,
                        StockDelta(incoming=-back),
                        reason,
                    )
                )
                postings.append(
                    Posting(
                        line.sku,
                        transfer.source,
                        MovementKind.TRANSFER_IN,
                        StockDelta(on_hand=back),
                        reason,
                    )
                )
                line = replace(line, cancelled=line.cancelled + back)
                uow.transfers.update_line(transfer_id, line)
            lines.append(line)
        post_in_key_order(uow, app, postings, actor=ref)
        uow.transfers.set_status(transfer_id, status_after(tuple(lines)), at=app.clock())
        result = uow.transfers.get(transfer_id)
        commit_stock_change(uow, app)
    return result


def get_transfer(app: Services, transfer_id: int) -> Transfer:
    """One transfer."""
    with app.uow() as uow:
        return uow.transfers.get(transfer_id)


def list_transfers(
    app: Services, *, status: TransferStatus | None = None, limit: int = 100
) -> list[Transfer]:
    """The newest transfers."""
    with app.uow() as uow:
        return uow.transfers.list(status=status, limit=limit)
