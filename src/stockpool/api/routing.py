"""What every write goes through: the Idempotency-Key, and the audit log.

Routes are declared with `AuditedRoute`. For a write (POST, PUT, PATCH, DELETE) it
identifies the caller, and for a POST with an Idempotency-Key claims the key before the
route runs: a retry with the same key and body gets the first answer again (with the
header `Idempotent-Replayed: true`), the same key with another body is refused. After the
route, the write is appended to the audit log (who, method, path, resource, status,
request id, before and after) together with the answer kept for the key.

A route whose use case takes an audit hook (check-and-reserve) gets an `InlineAudit`
instead (`inline_audit`): the use case then stores the entry and the kept answer in its own
transaction, atomically with the write, and the route answers with the response the entry
describes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool

from stockpool.api.problems import response_for
from stockpool.api.security import identify_soon, services_of
from stockpool.domain.access import ApiKey, AuditEntry, StoredResponse
from stockpool.services import access, audit
from stockpool.services.audit import AuditHook, AuditRecord

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "idempotency-key"
Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def set_before(request: Request, before: Any) -> None:
    """Tell the audit log what the resource was before this write."""
    request.state.audit_before = before


class InlineAudit:
    """The audit entry of one write, made inside the use case's own transaction."""

    def __init__(self, request: Request, key: ApiKey, token: str | None) -> None:
        self.request, self.key, self.token = request, key, token
        self.done = False  # the entry was committed with the write
        self._answer: tuple[object, Response] | None = None

    def hook(self, answer: Callable[[object], Response]) -> AuditHook:
        """A hook for the use case: `answer` turns its outcome into this route's response,
        whose audit entry (and kept answer) the hook returns."""

        def entry_of(outcome: object) -> AuditRecord:
            response = answer(outcome)
            self._answer = (outcome, response)
            return _entry(self.request, self.key, response, self.token)

        return entry_of

    def answered(self, outcome: object) -> Response | None:
        """The response whose entry was committed with `outcome` (the use case returned or
        raised it), or None if the use case ended some other way."""
        if self._answer is None or self._answer[0] is not outcome:
            return None
        self.done = True
        return self._answer[1]


def inline_audit(request: Request) -> InlineAudit | None:
    """The route's `InlineAudit`, when the caller is identified."""
    found = getattr(request.state, "inline_audit", None)
    return found if isinstance(found, InlineAudit) else None


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
        key = await identify_soon(request)  # no thread hop for a key checked recently
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
    inline = None
    if key is not None:
        inline = request.state.inline_audit = InlineAudit(request, key, token if claimed else None)
    try:
        response = await handler(request)
    except Exception as exc:
        response = response_for(request, exc)
    if inline is not None and (not inline.done or response.status_code >= 500):
        await run_in_threadpool(_finish, inline, response)
    return response


def _finish(inline: InlineAudit, response: Response) -> None:
    """Audit a write its use case did not audit; release the key of a server error."""
    if not inline.done:
        _record(inline.request, inline.key, response, inline.token)
    elif inline.token is not None:
        access.release(services_of(inline.request), inline.key, inline.token)


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
    if token is not None and response.status_code >= 500:
        access.release(services, key, token)
    entry, completes = _entry(request, key, response, token)
    audit.record(services, entry, completes=completes)


def _entry(request: Request, key: ApiKey, response: Response, token: str | None) -> AuditRecord:
    """The audit entry of a write, and the answer to keep for its Idempotency-Key (none for
    a server error: the key is released so that a retry runs again)."""
    raw = bytes(response.body) if hasattr(response, "body") else b""
    media_type = response.media_type or "application/json"
    try:
        answer = json.loads(raw) if raw and "json" in media_type else None
    except ValueError:
        answer = None
    completes = None
    if token is not None and response.status_code < 500:
        stored = StoredResponse(response.status_code, media_type, raw)
        completes = audit.Completion(key.id, token, stored)
    entry = AuditEntry(
        at=services_of(request).clock(),
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
    return entry, completes
