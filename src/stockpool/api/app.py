"""The application factory: `create_app(services, settings)`.

Paths are versioned under `/v1`; `/health` answers without a key; `/webhooks/{kind}`
takes channel webhooks; the OpenAPI document is at `/openapi.json` (and `/docs`). Every
error is a problem+json document, and the OpenAPI document says so for every operation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException as StarletteHTTPException

from stockpool.api import workers
from stockpool.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from stockpool.api.problems import PROBLEM_JSON, ApiProblem, handle
from stockpool.api.routes import (
    access,
    allocation,
    catalog,
    counts,
    events,
    imports,
    orders,
    purchasing,
    stock,
    transfers,
    webhooks,
)
from stockpool.api.schemas.common import Health
from stockpool.api.security import KeyCache
from stockpool.bootstrap import ApiSettings
from stockpool.domain.errors import StockpoolError
from stockpool.services.context import Services

VERSION = "1.0.0"
NO_TELEMETRY: Any = {"tracing": False, "metrics": False, "logs": False}
# Requests are matched against the routers in this order: the busiest path
# (POST /v1/orders/reserve) comes first.
ROUTERS = (
    orders.router,
    catalog.router,
    stock.router,
    allocation.router,
    transfers.router,
    purchasing.router,
    counts.router,
    imports.router,
    access.router,
    events.router,
)


def create_app(services: Services, settings: ApiSettings) -> FastAPI:
    """The stockpool API on `services`."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with workers.running(services, settings):
            yield

    app = FastAPI(
        title="stockpool",
        version=VERSION,
        summary="One stock ledger, available-to-sell on every channel.",
        lifespan=lifespan,
        telemetry=None
        if settings.telemetry
        else {"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    app.state.settings = settings
    app.state.key_cache = KeyCache(settings.key_cache_seconds)
    for router in ROUTERS:
        app.include_router(router, prefix="/v1")
    app.include_router(webhooks.router)
    app.add_api_route("/health", health, methods=["GET"], tags=["health"])
    for kind in (ApiProblem, StockpoolError, RequestValidationError, StarletteHTTPException):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(Exception, handle)
    app.add_middleware(
        BodyLimitMiddleware,
        max_json_bytes=settings.max_json_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(RequestIdMiddleware)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def health() -> Health:
    """The server is up (no key needed)."""
    return Health()


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if status.isdigit() and int(status) >= 400 and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = document
    return document
