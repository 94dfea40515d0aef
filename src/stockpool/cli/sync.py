"""Commands of channel synchronisation: connect, map, run, reconcile, status.

`stockpool sync run` is the dispatcher: it pushes every listing's ATS to its channel,
ingests the channel's orders (stored webhooks and a catch-up poll) and reconciles on a
schedule, until interrupted.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

import httpx
import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, fail, out, state
from stockpool.services import sync
from stockpool.services.sync import ChannelStatus, Drift
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings, reconcile_channel

sync_app = typer.Typer(help="Push ATS to channels and keep them in step.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@sync_app.command("connect")
def connect(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="The channel code.")],
    shop: Annotated[str, typer.Option("--shop", help="The shop's domain, e.g. x.myshopify.com.")],
    base_url: Annotated[str, typer.Option("--base-url", help="Where its Admin API answers.")],
    token: Annotated[str, typer.Option("--token", help="The Admin API access token.")],
    secret: Annotated[
        list[str], typer.Option("--secret", help="Webhook secret; repeat: current first.")
    ],
    heal: Annotated[str, typer.Option("--heal", help="Drift policy: report or repush.")] = (
        "report"
    ),
) -> None:
    """Connect a channel to its account; every mapped listing is queued for a push."""
    with errors_as_exit():
        queued = sync.connect(
            state(ctx).services(),
            channel,
            shop=shop,
            base_url=base_url,
            token=token,
            secrets=secret,
            heal=heal,
        )
    out.print(f"connected {channel} to {shop}; {queued} listings queued")


@sync_app.command("disconnect")
def disconnect(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="The channel code.")],
) -> None:
    """Disconnect a channel: its connection, mappings, pending pushes and drift are
    forgotten (the log of past pushes stays)."""
    with errors_as_exit():
        sync.disconnect(state(ctx).services(), channel)
    out.print(f"disconnected {channel}")


@sync_app.command("map")
def map_listing(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="The channel code.")],
    listing: Annotated[str, typer.Argument(help="The listing id on that channel.")],
    item: Annotated[str, typer.Option("--inventory-item", help="The channel's item id (GID).")],
    location: Annotated[str, typer.Option("--location", help="The channel's location id (GID).")],
) -> None:
    """Map a listing to the channel's inventory item and location."""
    with errors_as_exit():
        sync.map_listing(state(ctx).services(), channel, listing, item=item, location=location)
    out.print(f"mapped {channel}/{listing} to {item} at {location}")


@sync_app.command("run")
def run(
    ctx: typer.Context,
    channel: Annotated[list[str] | None, typer.Option("--channel", help="Only these.")] = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    poll: Annotated[float, typer.Option("--poll-seconds", help="Order poll period.")] = 60.0,
    reconcile: Annotated[
        float, typer.Option("--reconcile-seconds", help="Reconciliation period.")
    ] = 900.0,
) -> None:
    """Run the dispatcher until interrupted (Ctrl-C)."""
    settings = DispatchSettings(poll_seconds=poll, reconcile_seconds=reconcile)

    async def main() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            dispatcher = Dispatcher(state(ctx).services(), client, settings=settings)
            dispatcher.refresh(channel)
            if not dispatcher.workers:
                fail("no connected channel to sync: run `stockpool sync connect` first")
            await dispatcher.run(passes=1 if once else None)

    with errors_as_exit():
        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            out.print("stopped")


def _drift_json(channel: str, drift: Drift, now: datetime) -> dict[str, Any]:
    return {
        "channel": channel,
        "listing": drift.listing,
        "expected": drift.expected,
        "actual": drift.actual,
        "age_seconds": int((now - drift.since).total_seconds()),
        "cause": drift.cause,
    }


@sync_app.command("reconcile")
def reconcile_cmd(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Argument(help="One channel (default: all).")] = None,
    heal: Annotated[
        bool | None, typer.Option("--heal/--report", help="Re-push drift, or only report.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Read channel quantities back and report drift (exit 4 when there is some)."""
    app = state(ctx).services()

    async def main() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            dispatcher = Dispatcher(app, client)
            dispatcher.refresh(None if channel is None else [channel])
            for code, worker in sorted(dispatcher.workers.items()):
                for drift in await reconcile_channel(worker, heal=heal):
                    found.append(_drift_json(code, drift, app.clock()))
        return found

    with errors_as_exit():
        rows = asyncio.run(main())
    if as_json:
        emit_json(rows)
    else:
        table = Table("channel", "listing", "expected", "actual", "age (s)", "likely cause")
        for r in rows:
            table.add_row(
                r["channel"],
                r["listing"],
                str(r["expected"]),
                str(r["actual"]),
                str(r["age_seconds"]),
                r["cause"],
            )
        out.print(table if rows else "no drift")
    if rows:
        raise typer.Exit(4)


def _status_json(s: ChannelStatus) -> dict[str, Any]:
    return {
        "channel": s.channel,
        "lag_p50_ms": s.p50_ms,
        "lag_p99_ms": s.p99_ms,
        "acknowledged": s.acknowledged,
        "queue_depth": s.queue_depth,
        "failures": s.failures,
        "failing_now": s.failing_now,
        "last_success": None if s.last_success is None else s.last_success.isoformat(),
        "drift": s.drift,
    }


@sync_app.command("status")
def status(ctx: typer.Context, as_json: Json = False) -> None:
    """Per channel over the last hour: lag p50/p99, queue, failures, last success, drift."""
    with errors_as_exit():
        rows = [_status_json(s) for s in sync.status(state(ctx).services())]
    if as_json:
        emit_json(rows)
        return
    table = Table(
        "channel",
        "lag p50 ms",
        "lag p99 ms",
        "acks",
        "queue",
        "failures",
        "failing",
        "last success",
        "drift",
    )
    for r in rows:
        table.add_row(
            *(
                str("-" if r[k] is None else r[k])
                for k in (
                    "channel",
                    "lag_p50_ms",
                    "lag_p99_ms",
                    "acknowledged",
                    "queue_depth",
                    "failures",
                    "failing_now",
                    "last_success",
                    "drift",
                )
            )
        )
    out.print(table if rows else "no connected channel")
