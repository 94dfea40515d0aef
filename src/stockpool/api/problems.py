"""Errors as RFC 9457 problem details (`application/problem+json`).

Each kind of error has a stable `type` URI that clients may switch on. Stockpool's own
errors are mapped here, at the edge (the domain knows no status codes); request
validation errors carry the path of each bad field; an unexpected error is logged and
answered with a bare 500 problem, never with its details.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockpool.bootstrap import NotInitialised, Unreachable
from stockpool.domain.csv_formats import BadRows
from stockpool.domain.errors import (
    AlreadyExists,
    ConcurrentChange,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    StockpoolError,
)
from stockpool.domain.orders import OrderRefused
from stockpool.services.access import IdempotencyKeyReused
from stockpool.services.webhooks_in import BadSignature
from stockpool.store.uow import ConstraintViolation

PROBLEM_JSON = "application/problem+json"
BASE = "https://stockpool.dev/problems/"
log = logging.getLogger("stockpool.api")

TITLES = {
    "not-found": "Not found",
    "insufficient-stock": "Insufficient stock",
    "validation": "Invalid request",
    "conflict": "Conflict",
    "unauthorized": "Unauthorized",
    "forbidden": "Forbidden",
    "idempotency-key-reused": "Idempotency-Key reused",
    "payload-too-large": "Payload too large",
    "bad-signature": "Bad signature",
    "method-not-allowed": "Method not allowed",
    "not-acceptable": "Not acceptable",
    "unsupported-media-type": "Unsupported media type",
    "bad-request": "Bad request",
    "unavailable": "Service unavailable",
    "internal": "Internal error",
}
HTTP_KINDS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation",
    503: "unavailable",
}


class FieldIssue(BaseModel):
    """One bad field: where it is in the request, and what is wrong with it."""

    loc: list[str | int] = Field(description="Path of the field, e.g. ['body', 'quantity'].")
    msg: str


class Problem(BaseModel):
    """An RFC 9457 problem: what went wrong, in words and as a stable type URI."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI of the kind of problem.")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldIssue] | None = None


class ApiProblem(Exception):
    """An error the API answers with a problem document."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or kind)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.headers = headers
        self.extensions = extensions


def problem_response(
    request: Request | None,
    status: int,
    kind: str,
    detail: str | None = None,
    *,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, Any] = {"type": BASE + kind, "title": TITLES.get(kind, kind), "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    body.update({k: v for k, v in extensions.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _domain_status(exc: StockpoolError) -> tuple[int, str]:
    table: Sequence[tuple[type[StockpoolError], int, str]] = (
        (NotFound, 404, "not-found"),
        (InsufficientStock, 409, "insufficient-stock"),
        (OrderRefused, 409, "insufficient-stock"),
        (IdempotencyKeyReused, 422, "idempotency-key-reused"),
        (BadSignature, 401, "bad-signature"),
        (AlreadyExists, 409, "conflict"),
        (InvalidTransition, 409, "conflict"),
        (ConcurrentChange, 409, "conflict"),
        (ConstraintViolation, 409, "conflict"),
        (InvalidInput, 422, "validation"),
        (NotInitialised, 503, "unavailable"),
        (Unreachable, 503, "unavailable"),
    )
    for kind, status, name in table:
        if isinstance(exc, kind):
            return status, name
    return 400, "bad-request"


def _shortfall(exc: StockpoolError) -> Any:
    found = getattr(exc, "shortfall", None)
    if found is None:
        return None
    return [{"listing": s.listing_id, "asked": s.asked, "available": s.available} for s in found]


def response_for(request: Request, exc: BaseException) -> JSONResponse:
    """The problem response for any exception (the 500 one tells nothing of it)."""
    if isinstance(exc, ApiProblem):
        return problem_response(
            request, exc.status, exc.kind, exc.detail, headers=exc.headers, **exc.extensions
        )
    if isinstance(exc, RequestValidationError):
        issues = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        return problem_response(
            request, 422, "validation", "the request does not match its schema", errors=issues
        )
    if isinstance(exc, BadRows):
        issues = [
            {"loc": ["body", "file", e.row, e.column], "msg": e.reason} for e in exc.errors[:1000]
        ]
        return problem_response(request, 422, "validation", str(exc).split("\n")[0], errors=issues)
    if isinstance(exc, InsufficientStock):
        return problem_response(
            request,
            409,
            "insufficient-stock",
            str(exc),
            asked=exc.asked,
            available=exc.available,
        )
    if isinstance(exc, StockpoolError):
        status, kind = _domain_status(exc)
        return problem_response(request, status, kind, str(exc), shortfall=_shortfall(exc))
    if isinstance(exc, StarletteHTTPException):
        kind = HTTP_KINDS.get(exc.status_code, "bad-request")
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = None if exc.headers is None else dict(exc.headers)
        return problem_response(request, exc.status_code, kind, detail, headers=headers)
    log.exception("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, 500, "internal", "an unexpected error occurred")


async def handle(request: Request, exc: Exception) -> JSONResponse:
    """Exception handler registered for every kind of error."""
    return response_for(request, exc)


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for the given error statuses (all problem+json)."""
    return {
        status: {
            "model": Problem,
            "description": TITLES[HTTP_KINDS.get(status, "internal")],
        }
        for status in statuses
    }
