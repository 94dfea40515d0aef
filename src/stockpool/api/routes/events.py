"""Live events (Server-Sent Events, or pages of JSON) and outgoing webhooks.

`GET /v1/events` with `Accept: text/event-stream` streams events as they are recorded
(`id:` is the event id: reconnect with `Last-Event-ID` or `after` to continue where the
stream stopped); without it, it answers one page of JSON.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

import anyio
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from stockpool.api.pagination import Cursor, Limit, cursor_int, next_of, paginate
from stockpool.api.problems import documented
from stockpool.api.routing import AuditedRoute
from stockpool.api.schemas.events import (
    DeliveriesPublic,
    DeliveryPublic,
    EventPublic,
    EventsPublic,
    WebhookCreate,
    WebhookPublic,
    WebhooksPublic,
)
from stockpool.api.security import Admin, Reader, services_of
from stockpool.bootstrap import ApiSettings
from stockpool.domain.events import Event
from stockpool.services import events, webhooks_out
from stockpool.services.context import Services

router = APIRouter(
    tags=["events"], route_class=AuditedRoute, responses=documented(401, 403, 404, 422)
)
WebhookId = Annotated[int, Path(ge=1, le=2**62)]
EVENT_STREAM = "text/event-stream"
HEARTBEAT_SECONDS = 15.0
Types = Annotated[list[str] | None, Query(alias="type", description="Only these event types.")]


@router.get(
    "/events",
    summary="Live events",
    response_model=EventsPublic,
    responses={200: {"content": {EVENT_STREAM: {"schema": {"type": "string"}}}}},
)
def stream_events(
    request: Request,
    _key: Reader,
    item: Annotated[str | None, Query(max_length=100, description="Only this SKU.")] = None,
    channel: Annotated[str | None, Query(max_length=100, description="Only this channel.")] = None,
    types: Types = None,
    after: Annotated[int | None, Query(ge=0, le=2**62, description="Events after this id.")] = None,
    cursor: Cursor = None,
    limit: Limit = 100,
) -> EventsPublic | StreamingResponse:
    """Stock, ATS, order, sync and drift events, by increasing id.

    With `Accept: text/event-stream` the answer is a stream of Server-Sent Events that
    stays open (`Last-Event-ID` continues after that event); otherwise one page of JSON.
    """
    services = services_of(request)
    accept = request.headers.get("accept")
    last_event_id = request.headers.get("last-event-id")
    start = after if after is not None else cursor_int(cursor)
    if start is None and last_event_id is not None and last_event_id.isdigit():
        start = int(last_event_id)
    if accept is not None and EVENT_STREAM in accept:
        begin = events.last_event_id(services) if start is None else start
        # Checked once now, so that a bad filter is a 422 and not a broken stream.
        events.events_after(services, begin, item=item, channel=channel, types=types, limit=1)
        settings: ApiSettings = request.app.state.settings
        body = _stream(request, services, settings, begin, (item, channel, types))
        return StreamingResponse(
            body, media_type=EVENT_STREAM, headers={"Cache-Control": "no-store"}
        )
    found = events.events_after(
        services, start or 0, item=item, channel=channel, types=types, limit=limit
    )
    following = next_of(found[-1].id) if len(found) == limit else None
    return EventsPublic(data=[EventPublic.of(e) for e in found], next_cursor=following)


def _frame(event: Event) -> bytes:
    data = EventPublic.of(event).model_dump_json()
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n".encode()


async def _stream(
    request: Request,
    services: Services,
    settings: ApiSettings,
    begin: int,
    wanted: tuple[str | None, str | None, list[str] | None],
) -> AsyncIterator[bytes]:
    item, channel, types = wanted
    last = begin
    quiet = 0.0
    yield b"retry: 2000\n\n"
    while not await request.is_disconnected():
        found = await run_in_threadpool(
            events.events_after, services, last, item=item, channel=channel, types=types
        )
        for event in found:
            yield _frame(event)
            last = event.id
        if found:
            quiet = 0.0
            continue
        await anyio.sleep(settings.poll_seconds)
        quiet += settings.poll_seconds
        if quiet >= HEARTBEAT_SECONDS:
            quiet = 0.0
            yield b": heartbeat\n\n"


@router.get("/webhooks", summary="List outgoing webhooks")
def list_webhooks(
    request: Request,
    _key: Admin,
    cursor: Cursor = None,
    limit: Limit = 100,
    disabled: Annotated[bool, Query(description="Include disabled webhooks.")] = False,
) -> WebhooksPublic:
    """Registered webhooks by id."""
    found = webhooks_out.list_subscriptions(services_of(request), include_disabled=disabled)
    page, following = paginate(found, lambda s: s.id, cursor, limit)
    return WebhooksPublic(data=[WebhookPublic.of(s) for s in page], next_cursor=following)


@router.post(
    "/webhooks", status_code=201, summary="Register an outgoing webhook", responses=documented(413)
)
def add_webhook(request: Request, _key: Admin, body: WebhookCreate) -> WebhookPublic:
    """Send events of the given types to a URL, signed with the secret, from now on."""
    found = webhooks_out.subscribe(
        services_of(request),
        body.url,
        body.event_types,
        secret=body.secret,
        description=body.description,
    )
    return WebhookPublic.of(found)


@router.get("/webhooks/{webhook_id}", summary="Get an outgoing webhook", responses=documented(404))
def get_webhook(request: Request, _key: Admin, webhook_id: WebhookId) -> WebhookPublic:
    """One registered webhook."""
    return WebhookPublic.of(webhooks_out.get_subscription(services_of(request), webhook_id))


@router.delete(
    "/webhooks/{webhook_id}", summary="Disable an outgoing webhook", responses=documented(404)
)
def disable_webhook(request: Request, _key: Admin, webhook_id: WebhookId) -> WebhookPublic:
    """Stop sending to a webhook; its delivery log stays."""
    return WebhookPublic.of(webhooks_out.unsubscribe(services_of(request), webhook_id))


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="A webhook's delivery log",
    responses=documented(404),
)
def webhook_deliveries(
    request: Request, _key: Admin, webhook_id: WebhookId, cursor: Cursor = None, limit: Limit = 100
) -> DeliveriesPublic:
    """Every delivery of a webhook, newest first: status, attempts, last answer."""
    page = webhooks_out.deliveries(
        services_of(request), webhook_id, before_id=cursor_int(cursor), limit=limit
    )
    following = None if page.next_cursor is None else int(page.next_cursor)
    return DeliveriesPublic(
        data=[DeliveryPublic.of(d) for d in page.rows], next_cursor=next_of(following)
    )
