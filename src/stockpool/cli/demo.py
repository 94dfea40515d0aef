"""`stockpool demo`: generate the demo brand, run it with the API, and watch live traffic."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.live import Live
from rich.table import Table

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.cli import serve as serve_command
from stockpool.cli.context import emit_json, err, errors_as_exit, out, state
from stockpool.demo.generate import DemoSummary, generate, is_empty
from stockpool.demo.layout import CHANNELS
from stockpool.demo.live import Traffic, ats_table, hot_skus
from stockpool.services import access
from stockpool.services.context import Services
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings

demo_app = typer.Typer(
    help="The demo brand: generate it, run it with the API, watch live traffic.",
    no_args_is_help=True,
)

KEY_FILE = "admin-key"
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random generator.")]
Items = Annotated[int, typer.Option("--items", help="Number of items (SKUs).")]
Days = Annotated[int, typer.Option("--days", help="Days of order history, ending today.")]


def _summary_line(summary: DemoSummary) -> str:
    orders = sum(summary.orders.values())
    return (
        f"generated {summary.items} items, {summary.bundles} bundles, {summary.listings} "
        f"listings and {orders:,} orders on {len(summary.orders)} channels over "
        f"{summary.days} days in {summary.seconds:.1f} s"
    )


def _generate(app: Services, *, seed: int, items: int, days: int) -> DemoSummary:
    with errors_as_exit():
        return generate(
            app, seed=seed, items_count=items, days=days, progress=lambda m: err.print(f"{m}...")
        )


@demo_app.command("generate")
def generate_command(
    ctx: typer.Context,
    seed: Seed = 7,
    items: Items = 2000,
    days: Days = 730,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Write the demo brand with its order history into an empty store."""
    summary = _generate(state(ctx).services(), seed=seed, items=items, days=days)
    if as_json:
        emit_json({**summary.__dict__, "black_fridays": [str(d) for d in summary.black_fridays]})
        return
    out.print(_summary_line(summary), soft_wrap=True)
    out.print(
        f"{summary.lost_units:,} units of demand were lost to stockouts; "
        f"{summary.open_purchase_orders} purchase orders are on their way"
    )


def admin_key(app: Services, data_dir: Path) -> str:
    """The admin key kept in the data directory, made (mode 0600) if missing or revoked."""
    path = data_dir / KEY_FILE
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if access.authenticate(app, secret) is not None:
            return secret
    created = access.create_key(app, "admin", name="demo admin")
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(created.secret + "\n")
    path.chmod(0o600)
    return created.secret


@demo_app.command("run")
def run_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    seed: Seed = 7,
    items: Items = 2000,
    days: Days = 730,
) -> None:
    """First run: create the store, generate the demo if it is empty, then serve the API."""
    settings = state(ctx).settings
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with errors_as_exit():
        initialise(settings).dispose()
        app = build_services(settings)
        if is_empty(app):
            out.print(f"generating the demo brand ({items} items, {days} days of history)")
            summary = _generate(app, seed=seed, items=items, days=days)
            out.print(_summary_line(summary), soft_wrap=True)
        else:
            out.print(f"reusing the data in {settings.data_dir}", soft_wrap=True)
        key = admin_key(app, settings.data_dir)
        sku = next(iter(hot_skus(app, 1)), "TEE-001-BLK-M")
    url = f"http://{host}:{port}"
    out.print(f"stockpool is running at {url} (API docs at {url}/docs)", soft_wrap=True)
    out.print(f"admin API key (kept in {settings.data_dir / KEY_FILE}): {key}", soft_wrap=True)
    out.print(
        f'try: curl -H "Authorization: Bearer {key}" {url}/v1/items/{sku}/stock', soft_wrap=True
    )
    start_dispatcher(settings)
    serve_command.serve(ctx, host=host, port=port, workers=1, log_level="warning")


def start_dispatcher(settings: Settings) -> threading.Thread:
    """Run the sync dispatcher beside the API, in a thread of its own.

    It pushes available-to-sell to every connected channel (`stockpool sync connect`) and
    picks up channels connected later; with none connected it only looks now and then.
    """

    async def dispatch() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            services = build_services(settings)
            await Dispatcher(services, client, settings=DispatchSettings(idle_seconds=0.25)).run()

    def main() -> None:
        try:
            asyncio.run(dispatch())
        except Exception as exc:  # the API keeps serving; say why pushes stopped
            err.print(f"[red]the sync dispatcher stopped:[/red] {exc}", soft_wrap=True)

    thread = threading.Thread(target=main, name="stockpool-sync", daemon=True)
    thread.start()
    out.print("the sync dispatcher runs beside it (connect a channel: `stockpool sync connect`)")
    return thread


def _table(app: Services, skus: list[str], traffic: Traffic, started: float) -> Table:
    codes = [c.code for c in CHANNELS]
    counts = traffic.counts
    table = Table(
        "SKU",
        *codes,
        title=f"available to sell, live ({time.monotonic() - started:.0f} s)",
        caption=f"{counts.accepted} orders accepted, {counts.refused} refused, "
        f"{counts.receipts} receipts",
    )
    for sku, row in ats_table(app, skus).items():
        table.add_row(sku, *(str(row[c]) if c in row else "-" for c in codes))
    return table


@demo_app.command("live")
def live_command(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option("--rate", help="Orders a second.")] = 5.0,
    seconds: Annotated[float, typer.Option("--seconds", help="Stop after this (0: never).")] = 0,
    watch: Annotated[int, typer.Option("--watch", help="How many hot SKUs to show.")] = 6,
    seed: Seed = 1,
) -> None:
    """Simulated orders and receipts; watch the hot SKUs' ATS move on every channel."""
    app = state(ctx).services()
    with errors_as_exit():
        skus = hot_skus(app, watch)
        traffic = Traffic(app, skus, seed=seed)
        started = time.monotonic()
        due = 0.0
        try:
            with Live(_table(app, skus, traffic, started), console=out, auto_refresh=False) as live:
                while not seconds or time.monotonic() - started < seconds:
                    tick = time.monotonic()
                    due += rate
                    traffic.tick(int(due))
                    due -= int(due)
                    live.update(_table(app, skus, traffic, started), refresh=True)
                    time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
        except KeyboardInterrupt:
            out.print("stopped")
