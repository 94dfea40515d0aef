"""Stock levels and movements (read), and the stock operations (operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from stockpool.api.pagination import Cursor, Limit, cursor_int, next_of
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.stock import (
    Adjustment,
    CountResultPublic,
    CountTaken,
    Damage,
    Hold,
    MovementPublic,
    MovementsPublic,
    Receipt,
    Release,
    StockLevelPublic,
)
from stockpool.api.security import Operator, Reader, services_of
from stockpool.domain.access import ApiKey
from stockpool.domain.quantities import UnavailableReason
from stockpool.services import stock
from stockpool.services.stock import Actor

router = APIRouter(
    tags=["stock"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
SkuPath = Annotated[str, Path(min_length=1, max_length=100, description="The item's SKU.")]
WRITE = documented(404, 409, 413)


def actor(key: ApiKey, reference: str = "") -> Actor:
    """The ledger's actor for a key."""
    return Actor(key.actor, reference)


@router.get("/items/{sku}/stock", summary="Stock of an item", responses=documented(404))
def item_stock(request: Request, _key: Reader, sku: SkuPath) -> list[StockLevelPublic]:
    """The item's state at every location that ever held it."""
    rows = stock.stock_of(services_of(request), sku)
    return [StockLevelPublic.of(code, state) for code, state in rows]


@router.get("/items/{sku}/movements", summary="Movements of an item", responses=documented(404))
def item_movements(
    request: Request,
    _key: Reader,
    sku: SkuPath,
    cursor: Cursor = None,
    limit: Limit = 100,
    location: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> MovementsPublic:
    """The item's movements, newest first."""
    after = cursor_int(cursor)
    page = stock.movements_page(
        services_of(request),
        sku,
        location=location,
        kind=kind,
        after=None if after is None else str(after),
        limit=limit,
    )
    following = None if page.next_cursor is None else int(page.next_cursor)
    return MovementsPublic(
        data=[MovementPublic.of(m) for m in page.rows], next_cursor=next_of(following)
    )


@router.post("/stock/receive", summary="Receive units", responses=WRITE)
def receive(request: Request, key: Operator, body: Receipt) -> StockLevelPublic:
    """Put received units on the shelf."""
    state = stock.receive(
        services_of(request),
        body.sku,
        body.location,
        body.quantity,
        actor=actor(key, body.reference),
        reason=body.reason,
    )
    return StockLevelPublic.of(body.location, state)


@router.post("/stock/adjust", summary="Adjust on_hand", responses=WRITE)
def adjust(request: Request, key: Operator, body: Adjustment) -> StockLevelPublic:
    """Correct on_hand by a signed number of units."""
    state = stock.adjust(
        services_of(request),
        body.sku,
        body.location,
        body.delta,
        reason=body.reason,
        actor=actor(key, body.reference),
    )
    return StockLevelPublic.of(body.location, state)


@router.post("/stock/count", summary="Count a level", responses=WRITE)
def count(request: Request, key: Operator, body: CountTaken) -> CountResultPublic:
    """Set on_hand to the counted units; the variance is posted as a count movement."""
    result = stock.count(
        services_of(request),
        body.sku,
        body.location,
        body.counted,
        actor=actor(key, body.reference),
        reason=body.reason,
    )
    return CountResultPublic(
        counted=result.counted,
        variance=result.variance,
        level=StockLevelPublic.of(body.location, result.state),
    )


def _reclassify(
    request: Request,
    key: ApiKey,
    target: tuple[str, str, int],
    source: str | None,
    to: str | None,
    note: str,
) -> StockLevelPublic:
    sku, location, quantity = target
    state = stock.reclassify(
        services_of(request),
        sku,
        location,
        quantity,
        source=None if source is None else UnavailableReason(source),
        target=None if to is None else UnavailableReason(to),
        actor=actor(key),
        note=note,
    )
    return StockLevelPublic.of(location, state)


@router.post("/stock/damage", summary="Mark units damaged", responses=WRITE)
def damage(request: Request, key: Operator, body: Damage) -> StockLevelPublic:
    """Mark available units as damaged."""
    target = (body.sku, body.location, body.quantity)
    return _reclassify(request, key, target, None, "damaged", body.note)


@router.post("/stock/hold", summary="Hold units back", responses=WRITE)
def hold(request: Request, key: Operator, body: Hold) -> StockLevelPublic:
    """Hold available units back from sale (quality control by default)."""
    target = (body.sku, body.location, body.quantity)
    return _reclassify(request, key, target, None, body.reason, body.note)


@router.post("/stock/release", summary="Release held units", responses=WRITE)
def release(request: Request, key: Operator, body: Release) -> StockLevelPublic:
    """Release held units back to available, or to another reason."""
    target = (body.sku, body.location, body.quantity)
    return _reclassify(request, key, target, body.source, body.to, body.note)
