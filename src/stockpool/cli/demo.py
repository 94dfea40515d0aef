"""`stockpool demo`: generate the demo brand, run it with the API, and watch live traffic."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich import box
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.cli import serve as serve_command
from stockpool.cli.context import emit_json, err, errors_as_exit, out, state
from stockpool.demo.generate import DemoSummary, generate, is_empty
from stockpool.demo.layout import CHANNELS
from stockpool.demo.live import Traffic, ats_table, hot_skus
from stockpool.demo.live_shop import LiveShop, ShopView
from stockpool.demo.served_shop import ServedShop
from stockpool.demo.shop_link import unlink_stale
from stockpool.services import access
from stockpool.services.context import Services
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings
from stockpool.sync.webhooks import registry as sync_webhook_registry
from stockpool.sync.worker import SyncSettings

demo_app = typer.Typer(
    help="The demo brand: generate it, run it with the API, watch live traffic.",
    no_args_is_help=True,
)

KEY_FILE = "admin-key"
Seed = Annotated[int, typer.Option("--seed", help="Seed of the random generator.")]
Items = Annotated[int, typer.Option("--items", help="Number of items (SKUs).")]
Days = Annotated[int, typer.Option("--days", help="Days of order history, ending today.")]
ServeFakeShopify = Annotated[
    bool,
    typer.Option(
        "--fake-shopify",
        help="Also serve a fake Shopify on 127.0.0.1, connect the shopify channel to it and "
        "let its own customers buy now and then.",
    ),
]


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
    out.print(
        f"{summary.returned_units:,} units came back ({summary.returned_damaged:,} damaged), "
        f"{summary.damaged_in_handling:,} were damaged in handling, "
        f"{summary.written_off:,} written off; {summary.transfers} transfers from the "
        f"warehouse to the 3PL and the store ({summary.open_transfers} on their way)",
        soft_wrap=True,
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
    fake_shopify: ServeFakeShopify = False,
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
        skus = hot_skus(app, 6)
    url = f"http://{host}:{port}"
    out.print(f"stockpool is running at {url} (API docs at {url}/docs)", soft_wrap=True)
    out.print(f"admin API key (kept in {settings.data_dir / KEY_FILE}): {key}", soft_wrap=True)
    sku = next(iter(skus), "TEE-001-BLK-M")
    out.print(
        f'try: curl -H "Authorization: Bearer {key}" {url}/v1/items/{sku}/stock', soft_wrap=True
    )
    with errors_as_exit():
        if fake_shopify:
            _fake_shop(app, skus, url)
        else:
            _forget_stale_shop(app)
    start_dispatcher(settings, quick=fake_shopify)
    serve_command.serve(ctx, host=host, port=port, workers=1, log_level="warning")


def _fake_shop(app: Services, skus: list[str], url: str) -> ServedShop:
    shop = ServedShop(app, skus, api_url=url)
    shop_url = shop.start()
    out.print(
        f"a fake Shopify serves on {shop_url}, the shopify channel is connected to it; its "
        f"customers buy every {shop.every:g} s or so and post their orders to "
        f"{url}/webhooks/shopify",
        soft_wrap=True,
    )
    return shop


def _forget_stale_shop(app: Services) -> None:
    if unlink_stale(app):
        out.print("forgot the link to the fake Shopify of an earlier demo (it is gone)")


def start_dispatcher(settings: Settings, *, quick: bool = False) -> threading.Thread:
    """Run the sync dispatcher beside the API, in a thread of its own.

    It pushes available-to-sell to every connected channel (`stockpool sync connect`) and
    picks up channels connected later; with none connected it only looks now and then.
    `quick` (for the demo's fake Shopify, on our clock) looks more often and polls orders
    with a short overlap.
    """
    dispatch_settings = (
        DispatchSettings(
            idle_seconds=0.05, poll_seconds=10.0, sync=SyncSettings(overlap=timedelta(seconds=2))
        )
        if quick
        else DispatchSettings(idle_seconds=0.25)
    )

    async def dispatch() -> None:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
            services = build_services(settings)
            await Dispatcher(services, client, settings=dispatch_settings).run()

    def main() -> None:
        try:
            asyncio.run(dispatch())
        except Exception as exc:  # the API keeps serving; say why pushes stopped
            err.print(f"[red]the sync dispatcher stopped:[/red] {exc}", soft_wrap=True)

    thread = threading.Thread(target=main, name="stockpool-sync", daemon=True)
    thread.start()
    out.print("the sync dispatcher runs beside it (connect a channel: `stockpool sync connect`)")
    return thread


TICK_SECONDS = 0.25


def _sync_runner(app: Services, client: httpx.AsyncClient) -> Dispatcher:
    """The dispatcher beside `demo live`: it pushes at once and polls the shop every 10 s."""
    settings = DispatchSettings(
        idle_seconds=0.05,
        poll_seconds=10.0,
        reconcile_seconds=300.0,
        # The fake shop runs on our clock and shows every order at once: a short overlap
        # between polls is enough, and keeps each catch-up to the newest orders.
        sync=SyncSettings(overlap=timedelta(seconds=2)),
    )
    return Dispatcher(app, client, settings=settings)


class _LastWarning(logging.Handler):
    """Keeps the sync dispatcher's last warning for the table, instead of printing it."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.message = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.message = record.getMessage()


def _shop_caption(shop: LiveShop, view: ShopView) -> str:
    counts = view.counts
    lag = "-" if view.p50_ms is None else f"p50 {view.p50_ms} ms, p99 {view.p99_ms} ms"
    return (
        f"\n(shop): what the fake Shopify on {shop.server.base_url} shows; "
        f"its own customers placed {counts.orders} orders ({counts.units} units), "
        f"{counts.sold_out} found it sold out"
        f"\npushes to it: lag {lag}, {view.queue} waiting"
        + (f"\n[red]{escape(shop.failure)}[/red]" if shop.failure else "")
    )


def _table(
    app: Services, skus: list[str], traffic: Traffic, shop: LiveShop | None, started: float,
    *, note: str = "",
) -> Table:  # fmt: skip
    codes = [c.code for c in CHANNELS]
    view = shop.view(skus) if shop is not None else None
    counts = traffic.counts
    caption = (
        f"{counts.accepted} orders accepted, {counts.refused} refused, {counts.receipts} receipts"
    )
    headers = [*codes]
    if shop is not None and view is not None:
        caption += _shop_caption(shop, view)
        headers.insert(1, "(shop)")
    if note:
        caption += f"\nsync: {escape(note)}"
    table = Table(
        title=f"available to sell, live ({time.monotonic() - started:.0f} s)",
        caption=caption,
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    table.add_column("SKU", no_wrap=True)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for sku, row in ats_table(app, skus).items():
        cells = [str(row[c]) if c in row else "-" for c in codes]
        if view is not None:
            shown = view.shows.get(sku)
            cells.insert(1, "-" if shown is None else str(shown))
        table.add_row(sku, *cells)
    return table


@dataclass(frozen=True)
class _Pace:
    """How fast `demo live` goes and for how long (0 s: until Ctrl-C)."""

    rate: float
    seconds: float
    seed: int
    warnings: _LastWarning


async def _watch(
    app: Services, skus: list[str], traffic: Traffic, shop: LiveShop | None, pace: _Pace
) -> None:
    """Place the traffic due every tick and redraw the table, until the time is up."""
    started, due = time.monotonic(), 0.0
    with Live(console=out, auto_refresh=False) as live:
        while not pace.seconds or time.monotonic() - started < pace.seconds:
            tick = time.monotonic()
            due += pace.rate * TICK_SECONDS
            traffic.tick(int(due))
            due -= int(due)
            if shop is not None:
                shop.deliver()
            table = _table(app, skus, traffic, shop, started, note=pace.warnings.message)
            live.update(table, refresh=True)
            await asyncio.sleep(max(0.0, TICK_SECONDS - (time.monotonic() - tick)))
    if not out.is_terminal:
        out.line()  # a live display on a terminal ends its line itself


async def _live(app: Services, skus: list[str], pace: _Pace, *, fake: bool) -> None:
    if not fake:
        await _watch(app, skus, Traffic(app, skus, seed=pace.seed), None, pace)
        return
    registry = sync_webhook_registry(app)
    shop = LiveShop(app, make_sync=_sync_runner, registry=registry, seed=pace.seed)
    async with shop:
        traffic = Traffic(app, skus, seed=pace.seed, shop=shop.customers)
        try:
            await _watch(app, skus, traffic, shop, pace)
        finally:
            out.print("draining: the fake Shopify's last orders and our last pushes to it")
    counts = shop.customers.counts
    ending = (
        "all recorded here; when it stopped it showed our available-to-sell"
        if shop.in_step
        else "but draining timed out: some may be missing here, and it may have shown other "
        "quantities than ours"
    )
    out.print(
        f"the fake Shopify's customers placed {counts.orders} orders ({counts.units} units), "
        + ending,
        soft_wrap=True,
    )


@demo_app.command("live")
def live_command(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option("--rate", help="Orders a second.")] = 5.0,
    seconds: Annotated[float, typer.Option("--seconds", help="Stop after this (0: never).")] = 0,
    watch: Annotated[int, typer.Option("--watch", help="How many hot SKUs to show.")] = 6,
    seed: Seed = 1,
    fake_shopify: Annotated[
        bool,
        typer.Option(
            "--fake-shopify/--no-fake-shopify",
            help="Serve a fake Shopify on 127.0.0.1, connect the shopify channel to it and "
            "let its own customers take Shopify's share of the orders.",
        ),
    ] = True,
) -> None:
    """Simulated orders and receipts; watch the hot SKUs' ATS move on every channel.

    With the fake Shopify (the default), the sync dispatcher pushes every change of ATS to
    it, and the shop's own sales come back as orders through its signed webhooks.
    """
    app = state(ctx).services()
    warnings = _LastWarning()
    sync_log = logging.getLogger("stockpool.sync")
    sync_log.addHandler(warnings)
    sync_log.propagate = False
    with errors_as_exit():
        skus = hot_skus(app, watch)
        try:
            pace = _Pace(rate, seconds, seed, warnings)
            asyncio.run(_live(app, skus, pace, fake=fake_shopify))
        except KeyboardInterrupt:
            out.print("stopped")
        finally:
            sync_log.removeHandler(warnings)
            sync_log.propagate = True
