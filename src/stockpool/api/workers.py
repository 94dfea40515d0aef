"""The application's background tasks: process channel webhooks, send outgoing webhooks.

Both poll the database (every `ApiSettings.poll_seconds`) and do their database work in
worker threads; outgoing webhooks are sent with `httpx`, concurrently, outside any
transaction. Several processes may run them at once: deliveries are leased, and the
subscription cursors move by compare-and-set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

import httpx
from starlette.concurrency import run_in_threadpool

from stockpool.bootstrap import ApiSettings
from stockpool.services import webhooks_in, webhooks_out
from stockpool.services.context import Services
from stockpool.services.webhooks_out import OutgoingRequest

log = logging.getLogger("stockpool.api.workers")


async def process_inbound_once(services: Services, settings: ApiSettings) -> int:
    """Process the stored channel webhooks that have a handler."""
    return await run_in_threadpool(webhooks_in.process_pending, services, settings.webhooks)


async def _send(
    client: httpx.AsyncClient, request: OutgoingRequest
) -> tuple[int | None, str | None]:
    try:
        response = await client.post(request.url, content=request.body, headers=request.headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"answered {response.status_code}"


async def dispatch_once(
    services: Services, settings: ApiSettings, client: httpx.AsyncClient
) -> int:
    """Plan deliveries of new events, send the due ones, record the results."""
    await run_in_threadpool(webhooks_out.plan_deliveries, services)
    due = await run_in_threadpool(webhooks_out.claim_due, services)
    results = await asyncio.gather(*(_send(client, r) for r in due))
    for request, (status, error) in zip(due, results, strict=True):
        await run_in_threadpool(
            partial(
                webhooks_out.record_result,
                services,
                request.delivery_id,
                response_status=status,
                error=error,
                backoff_seconds=settings.webhook_backoff_seconds,
            )
        )
    return len(due)


async def _forever(name: str, step: Callable[[], Awaitable[object]], seconds: float) -> None:
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception:  # a worker survives a bad round; the next one tries again
            log.exception("background task %s failed; retrying", name)
        await asyncio.sleep(seconds)


@asynccontextmanager
async def running(services: Services, settings: ApiSettings) -> AsyncIterator[None]:
    """Run the background tasks for as long as the application runs."""
    if not settings.run_workers:
        yield
        return
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        tasks = [
            asyncio.create_task(
                _forever(
                    "inbound webhooks",
                    lambda: process_inbound_once(services, settings),
                    settings.poll_seconds,
                )
            ),
            asyncio.create_task(
                _forever(
                    "outgoing webhooks",
                    lambda: dispatch_once(services, settings, client),
                    settings.poll_seconds,
                )
            ),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
