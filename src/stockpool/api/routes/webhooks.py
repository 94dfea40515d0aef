"""Channel webhooks: verified, stored, answered at once; processed in the background."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from stockpool.api.problems import ApiProblem, documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.events import WebhookReceived
from stockpool.api.security import identify, services_of
from stockpool.bootstrap import ApiSettings
from stockpool.domain.access import Permission, allows
from stockpool.services import webhooks_in

router = APIRouter(tags=["webhooks"], route_class=AuditedRoute)
Kind = Annotated[str, Path(min_length=1, max_length=20, description="shopify, amazon, ...")]


@router.post(
    "/webhooks/{channel_kind}",
    status_code=202,
    summary="Receive a channel webhook",
    responses=documented(401, 403, 404, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def receive(request: Request, channel_kind: Kind) -> WebhookReceived:
    """Verify the channel's signature, store the delivery, answer 202 (duplicates too).

    The channel's own signature authenticates it; an API key, if one is sent too, must be
    allowed to deliver webhooks.
    """
    if request.headers.get("authorization"):
        key = await run_in_threadpool(identify, request)
        if key is None:
            raise ApiProblem(401, "unauthorized", "the API key is not valid")
        if not allows(key.role, Permission.DELIVER_WEBHOOKS):
            raise ApiProblem(403, "forbidden", "this key may not deliver webhooks")
    body = await request.body()
    settings: ApiSettings = request.app.state.settings
    received = await run_in_threadpool(
        webhooks_in.receive,
        services_of(request),
        settings.webhooks,
        channel_kind,
        dict(request.headers),
        body,
    )
    return WebhookReceived(id=received.id, duplicate=received.duplicate)
