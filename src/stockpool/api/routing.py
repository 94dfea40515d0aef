"""What every write goes through: the Idempotency-Key, and the audit log.

Routes are declared with `AuditedRoute`. For a write (POST, PUT, PATCH, DELETE) it
identifies the caller, and for a POST with an Idempotency-Key claims the key before the
route runs: a retry with the same key and body gets the first answer again (with the
header `Idempotent-Replayed: true`), the same key with another body is refused. After the
route, the write is appended to the audit log (who, method, path, resource, status,
request id, before and after) together with the answer kept for the key.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from stockpool.api.problems import response_for
from stockpool.api.security import identified_from_cache, identify, services_of
from stockpool.domain.access import ApiKey, AuditEntry, StoredResponse
from stockpool.services import access, audit

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "idempotency-key"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def set_before(request: Request, before: Any) -> None:
    """Tell the audit log what the resource was before this write."""
    request.state.audit_before = before


class AuditedRoute(APIRoute):
    """A route whose writes are idempotent on request and always audited."""

    def get_route_handler(self) -> Handler:
        handler: Handler = super().get_route_handler()
        if not (self.methods or set()) & WRITE_METHODS:
            return handler

        async def audited(request: Request) -> Response:
            return await run_write(request, handler)

        return audited


async def run_write(request: Request, handler: Handler) -> Response:
    """Run a write with idempotency and audit around it."""
    try:
        if identified_from_cache(request):  # no thread hop for a key checked recently
            key = identify(request)
        else:
            key = await run_in_threadpool(identify, request)
        body = await request.body()
    except Exception as exc:
        return response_for(request, exc)
    token = request.headers.get(IDEMPOTENCY_HEADER)
    claimed = False
    if token is not None and key is not None and request.method == "POST":
        try:
            stored = await run_in_threadpool(
                access.claim,
                services_of(request),
                key,
                token,
                method=request.method,
                path=_target(request),
                body=body,
            )
        except Exception as exc:
            return response_for(request, exc)
        if stored is not None:
            return Response(
                stored.body,
                stored.status,
                media_type=stored.media_type,
                headers={"Idempotent-Replayed": "true"},
            )
        claimed = True
    try:
        response = await handler(request)
    except Exception as exc:
        response = response_for(request, exc)
    if key is not None:
        await run_in_threadpool(_record, request, key, response, token if claimed else None)
    return response


def _target(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _resource(request: Request, answer: Any) -> str:
    if request.path_params:
        return ",".join(f"{k}={v}" for k, v in sorted(request.path_params.items()))[:500]
    if isinstance(answer, dict):
        for name in ("id", "sku", "code", "name"):
            if name in answer and isinstance(answer[name], str | int):
                return f"{name}={answer[name]}"[:500]
    return ""


def _record(request: Request, key: ApiKey, response: Response, token: str | None) -> None:
    services = services_of(request)
    raw = bytes(response.body) if hasattr(response, "body") else b""
    media_type = response.media_type or "application/json"
    try:
        answer = json.loads(raw) if raw and "json" in media_type else None
    except ValueError:
        answer = None
    completes = None
    if token is not None:
        if response.status_code >= 500:
            access.release(services, key, token)
        else:
            stored = StoredResponse(response.status_code, media_type, raw)
            completes = audit.Completion(key.id, token, stored)
    entry = AuditEntry(
        at=services.clock(),
        key_id=key.id,
        actor=key.name,
        method=request.method,
        path=_target(request)[:2000],
        resource=_resource(request, answer),
        status=response.status_code,
        request_id=getattr(request.state, "request_id", "") or "",
        before=getattr(request.state, "audit_before", None),
        after=answer,
    )
    audit.record(services, entry, completes=completes)
