"""Count reconciliation: upload a count file, review, approve or reject (operators)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from stockpool.api.pagination import Cursor, Limit, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.interchange import CountDecision, CountPublic, CountsPublic
from stockpool.api.security import Operator, Reader, services_of
from stockpool.domain.access import ApiKey
from stockpool.domain.counts import Threshold
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.services import counts
from stockpool.services.counts import DEFAULT_THRESHOLD
from stockpool.services.stock import Actor

router = APIRouter(
    tags=["counts"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
CountId = Annotated[int, Path(ge=1, le=2**62)]
WRITE = documented(404, 409, 413)
WINDOW = 10_000


@router.get("/counts", summary="List counts")
def list_counts(
    request: Request, _key: Reader, cursor: Cursor = None, limit: Limit = 100
) -> CountsPublic:
    """Counts, newest first."""
    found = counts.list_counts(services_of(request), limit=WINDOW)
    page, following = paginate(found, lambda c: -c.id, cursor, limit)
    return CountsPublic(data=[CountPublic.of(c) for c in page], next_cursor=following)


def _threshold(max_units: int | None, max_value: str | None) -> Threshold:
    try:
        value = None if max_value in (None, "") else Decimal(str(max_value))
    except InvalidOperation:
        raise InvalidInput(f"max_value must be a number, got {max_value!r}") from None
    if value is not None and (not value.is_finite() or value < 0):
        raise InvalidInput("max_value must be zero or more")
    return Threshold(max_units, value)


@router.post("/counts", status_code=201, summary="Upload a count file", responses=WRITE)
async def import_count(
    request: Request,
    key: Operator,
    file: Annotated[UploadFile, File(description="CSV: sku, location, counted[, counted_at]")],
    reason: Annotated[str, Form(min_length=1, max_length=1000)] = "count",
    max_units: Annotated[int | None, Form(ge=0, le=10**9)] = DEFAULT_THRESHOLD.units,
    max_value: Annotated[str | None, Form(max_length=30)] = str(DEFAULT_THRESHOLD.value),
    skip_bad_rows: Annotated[bool, Form()] = False,
) -> CountPublic:
    """Reconcile a count file against the ledger; post what is within the threshold."""
    data = await file.read()
    name = file.filename or "count.csv"
    threshold = _threshold(max_units, max_value)
    count = await run_in_threadpool(
        lambda: counts.import_count(
            services_of(request),
            data,
            name=name,
            actor=Actor(key.actor, f"count:{name}"),
            reason=reason,
            threshold=threshold,
            skip_bad_rows=skip_bad_rows,
        )
    )
    return CountPublic.of(count)


@router.get("/counts/{count_id}", summary="Get a count", responses=documented(404))
def get_count(request: Request, _key: Reader, count_id: CountId) -> CountPublic:
    """A count's lines: variance in units and value, status, open documents."""
    return CountPublic.of(counts.get_count(services_of(request), count_id))


def _decide(
    request: Request, key: ApiKey, count_id: int, body: CountDecision, *, approve: bool
) -> CountPublic:
    keys = (
        None if body.lines is None else [(Sku(x.sku), LocationCode(x.location)) for x in body.lines]
    )
    use_case = counts.approve_count if approve else counts.reject_count
    return CountPublic.of(use_case(services_of(request), count_id, keys, actor=Actor(key.actor)))


@router.post("/counts/{count_id}/approve", summary="Approve variances", responses=WRITE)
def approve(request: Request, key: Operator, count_id: CountId, body: CountDecision) -> CountPublic:
    """Post pending variances of a count as count movements."""
    return _decide(request, key, count_id, body, approve=True)


@router.post("/counts/{count_id}/reject", summary="Reject variances", responses=WRITE)
def reject(request: Request, key: Operator, count_id: CountId, body: CountDecision) -> CountPublic:
    """Discard pending variances of a count."""
    return _decide(request, key, count_id, body, approve=False)
