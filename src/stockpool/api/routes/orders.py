"""Orders: check-and-reserve and the lifecycle (operators), ingest (integrations too)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from stockpool.api.pagination import Cursor, Limit, cursor_int, next_of, paginate
from stockpool.api.problems import documented, response_for
from stockpool.api.routing import AuditedRoute, inline_audit
from stockpool.api.schemas.orders import (
    ExceptionPublic,
    ExceptionsPublic,
    IngestedPublic,
    OrderLineCreate,
    OrderNotification,
    OrderPublic,
    OrdersPublic,
    ReserveCreate,
    ReturnCreate,
    ShortfallProblem,
    Transition,
)
from stockpool.api.security import Ingester, Operator, Reader, services_of
from stockpool.domain.errors import InvalidInput, StockpoolError
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import LineRequest, NotificationKind
from stockpool.services import order_lifecycle, orders
from stockpool.services.reservations import ReserveResult
from stockpool.services.stock import Actor

router = APIRouter(
    tags=["orders"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
ChannelPath = Annotated[str, Path(min_length=1, max_length=100)]
ExternalPath = Annotated[str, Path(min_length=1, max_length=200)]
WRITE = documented(404, 409, 413)


def _requests(lines: list[OrderLineCreate]) -> list[LineRequest]:
    return [LineRequest(ListingId(x.listing), x.quantity) for x in lines]


def _units(body: Transition) -> dict[int, int] | None:
    if body.lines is None:
        return None
    found: dict[int, int] = {}
    for x in body.lines:
        if x.line in found:
            raise InvalidInput(f"line {x.line} is given twice")
        found[x.line] = x.quantity
    return found


@router.post(
    "/orders/reserve",
    status_code=201,
    response_model=OrderPublic,
    summary="Check and reserve an order",
    responses={
        **documented(404, 413),
        200: {"model": OrderPublic, "description": "Accepted before (a retry): as it is."},
        409: {"model": ShortfallProblem, "description": "Refused: lines that do not fit."},
    },
)
async def reserve(request: Request, key: Operator, body: ReserveCreate) -> Response:
    """Accept the order only if every line fits its listing's ATS now (201); otherwise
    refuse it with the shortfall per line (409) and change nothing."""
    inline = inline_audit(request)  # the audit entry goes in the reservation's transaction
    answer = partial(_reserve_answer, request)
    try:
        result = await orders.reserve_soon(  # waits for its batch without holding a thread
            services_of(request),
            body.channel,
            body.external_id,
            _requests(body.lines),
            ship_to_zone=body.ship_to_zone,
            actor=Actor(key.actor),
            audit=None if inline is None else inline.hook(answer),
        )
    except StockpoolError as error:
        if inline is not None and (done := inline.answered(error)) is not None:
            return done
        raise
    if inline is not None and (done := inline.answered(result)) is not None:
        return done
    return answer(result)


def _reserve_answer(request: Request, outcome: object) -> Response:
    """The response to a check-and-reserve outcome."""
    if isinstance(outcome, ReserveResult):
        status = 200 if outcome.replayed else 201
        body = OrderPublic.of(outcome.order).model_dump_json()
        return Response(body, status, media_type="application/json")
    if isinstance(outcome, BaseException):
        return response_for(request, outcome)
    raise TypeError(f"not an outcome of check-and-reserve: {outcome!r}")


@router.post("/orders/ingest", summary="Ingest a channel's order", responses=WRITE)
def ingest(request: Request, key: Ingester, body: OrderNotification) -> IngestedPublic:
    """Record a channel's order exactly once, whatever order its notifications come in;
    lines stock cannot cover become oversold exceptions."""
    note = orders.Notification(
        kind=NotificationKind(body.kind),
        channel=body.channel,
        external_id=body.external_id,
        updated_at=body.updated_at,
        lines=tuple(_requests(body.lines)),
        ship_to_zone=body.ship_to_zone,
    )
    result = orders.ingest(services_of(request), note, actor=Actor(key.actor))
    return IngestedPublic(action=result.action, order=OrderPublic.of(result.order))


@router.get("/orders", summary="List orders")
def list_orders(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(description="open, shipped or cancelled")] = None,
) -> OrdersPublic:
    """Orders, newest first."""
    after = cursor_int(cursor)
    page = orders.orders_page(
        services_of(request),
        channel=channel,
        status=status,
        after=None if after is None else str(after),
        limit=limit,
    )
    following = None if page.next_cursor is None else int(page.next_cursor)
    return OrdersPublic(data=[OrderPublic.of(o) for o in page.rows], next_cursor=next_of(following))


@router.get("/orders/exceptions", summary="Oversold exceptions")
def list_exceptions(
    request: Request,
    _key: Reader,
    cursor: Cursor = None,
    limit: Limit = 100,
    channel: Annotated[str | None, Query(max_length=100)] = None,
    resolved: Annotated[bool, Query(description="Include resolved ones.")] = False,
) -> ExceptionsPublic:
    """Oversold exceptions, oldest first (open ones only unless `resolved`)."""
    found = orders.exceptions(services_of(request), include_resolved=resolved, channel=channel)
    numbered = list(enumerate(found))
    page, following = paginate(numbered, lambda pair: pair[0], cursor, limit)
    return ExceptionsPublic(data=[ExceptionPublic.of(x) for _, x in page], next_cursor=following)


@router.get("/orders/{channel}/{external_id}", summary="Get an order", responses=documented(404))
def get_order(
    request: Request, _key: Reader, channel: ChannelPath, external_id: ExternalPath
) -> OrderPublic:
    """One order with its lines and where each is committed."""
    return OrderPublic.of(orders.show(services_of(request), channel, external_id))


@router.post("/orders/{channel}/{external_id}/ship", summary="Ship units", responses=WRITE)
def ship(
    request: Request,
    key: Operator,
    channel: ChannelPath,
    external_id: ExternalPath,
    body: Transition,
) -> OrderPublic:
    """Ship listing units per line (every covered open unit when `lines` is absent)."""
    order = order_lifecycle.ship(
        services_of(request),
        channel,
        external_id,
        _units(body),
        reference=body.reference,
        actor=Actor(key.actor),
    )
    return OrderPublic.of(order)


@router.post("/orders/{channel}/{external_id}/cancel", summary="Cancel units", responses=WRITE)
def cancel(
    request: Request,
    key: Operator,
    channel: ChannelPath,
    external_id: ExternalPath,
    body: Transition,
) -> OrderPublic:
    """Cancel open units per line (the whole order when `lines` is absent)."""
    order = order_lifecycle.cancel(
        services_of(request),
        channel,
        external_id,
        _units(body),
        reference=body.reference,
        actor=Actor(key.actor),
    )
    return OrderPublic.of(order)


@router.post("/orders/{channel}/{external_id}/return", summary="Return units", responses=WRITE)
def return_units(
    request: Request,
    key: Operator,
    channel: ChannelPath,
    external_id: ExternalPath,
    body: ReturnCreate,
) -> OrderPublic:
    """Take shipped units back, to available or (with `damaged`) to damaged."""
    order = order_lifecycle.return_units(
        services_of(request),
        channel,
        external_id,
        _units(body),
        damaged=body.damaged,
        reference=body.reference,
        actor=Actor(key.actor),
    )
    return OrderPublic.of(order)
