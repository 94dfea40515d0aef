"""Transfers: read for every reader, ship, receive and cancel for operators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.transfers import (
    TransferCreate,
    TransferPublic,
    TransferReceipt,
    TransfersPublic,
)
from stockpool.api.security import Operator, Reader, services_of
from stockpool.domain.errors import InvalidInput
from stockpool.domain.transfers import TransferStatus
from stockpool.services import transfers
from stockpool.services.stock import Actor

router = APIRouter(
    tags=["transfers"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
TransferId = Annotated[int, Path(ge=1, le=2**62)]
WRITE = documented(404, 409, 413)
WINDOW = 10_000
Status = Annotated[str | None, Query(description="in_transit, received, cancelled...")]


def lines_of(body: TransferCreate | TransferReceipt) -> dict[str, int]:
    """The lines as the use cases take them (each SKU once)."""
    found: dict[str, int] = {}
    for line in body.lines or []:
        if line.sku in found:
            raise InvalidInput(f"{line.sku} is given twice: one line per SKU")
        found[line.sku] = line.quantity
    return found


@router.get("/transfers", summary="List transfers", response_model_by_alias=True)
def list_transfers(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100, status: Status = None
) -> TransfersPublic:
    """Transfers, newest first."""
    wanted = None
    if status is not None:
        try:
            wanted = TransferStatus(status)
        except ValueError:
            names = ", ".join(s.value for s in TransferStatus)
            raise InvalidInput(f"status must be one of {names}") from None
    found = transfers.list_transfers(services_of(request), status=wanted, limit=WINDOW)
    page, following = paginate(found, lambda t: -t.id, cursor, limit)
    return TransfersPublic(data=[TransferPublic.of(t) for t in page], next_cursor=following)


@router.post("/transfers", status_code=201, summary="Ship a transfer", responses=WRITE)
def ship(request: Request, key: Operator, body: TransferCreate) -> TransferPublic:
    """Ship a transfer of several lines now."""
    transfer = transfers.ship_transfer(
        services_of(request),
        body.source,
        body.destination,
        lines_of(body),
        actor=Actor(key.actor),
        expected_at=body.expected_at,
    )
    return TransferPublic.of(transfer)


@router.get("/transfers/{transfer_id}", summary="Get a transfer", responses=documented(404))
def get_transfer(request: Request, _key: Reader, transfer_id: TransferId) -> TransferPublic:
    """One transfer with its lines."""
    return TransferPublic.of(transfers.get_transfer(services_of(request), transfer_id))


@router.post("/transfers/{transfer_id}/receive", summary="Receive a transfer", responses=WRITE)
def receive(
    request: Request, key: Operator, transfer_id: TransferId, body: TransferReceipt
) -> TransferPublic:
    """Receive a transfer at its destination, whole or in part."""
    transfer = transfers.receive_transfer(
        services_of(request), transfer_id, lines_of(body) or None, actor=Actor(key.actor)
    )
    return TransferPublic.of(transfer)


@router.post("/transfers/{transfer_id}/cancel", summary="Cancel a transfer", responses=WRITE)
def cancel(request: Request, key: Operator, transfer_id: TransferId) -> TransferPublic:
    """Cancel a transfer: what is still in transit goes back to the source."""
    transfer = transfers.cancel_transfer(services_of(request), transfer_id, actor=Actor(key.actor))
    return TransferPublic.of(transfer)
