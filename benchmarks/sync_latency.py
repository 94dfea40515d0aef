"""How long from an order's commit to Shopify's acknowledgement of the new quantity?

5,000 listings (`--quick`: 500) on a fake Shopify served by uvicorn on 127.0.0.1 in its own
process; orders of one unit arrive at 100/s for 30 s (`--quick`: 5 s) through another
channel (check-and-reserve, in a process of their own), each lowering one Shopify listing's
ATS; one dispatcher pushes (and, as `stockpool sync run` does from its start, polls the
shop's orders and reconciles every listing meanwhile). Reports p50/p99 of the lag from the
change (the outbox row's first change, in the order's transaction) to the acknowledgement,
and as reference the round trip of one bare push to the same fake. Items, stock and
listings are written in bulk, the listings mapped to the fake's inventory items in bulk.
Last line: one JSON object.

    python benchmarks/sync_latency.py [--quick] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, select, text

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.channels.protocol import QuantityPush, RemoteRef
from stockpool.channels.shopify import ShopifyConnector, ShopifySettings
from stockpool.fakes.shopify import Bucket, FakeShopify
from stockpool.services import ats, catalog, channels, orders, sync
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.store.allocation_tables import listings
from stockpool.store.channels import add_missing_ats_rows
from stockpool.store.sync_tables import sync_listings
from stockpool.store.tables import items, movements, stock_levels
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings

console = Console(stderr=True)
LOC = "gid://shopify/Location/1"
ME = Actor("bench")
UNITS = 1000
RATE = 100.0
PLACERS = 4
TARGET_P99_MS = 1000
PG_URL = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def sku(n: int) -> str:
    return f"SKU{n:05d}"


def inventory_item(n: int) -> str:
    return f"gid://shopify/InventoryItem/{n + 1}"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_shop() -> FakeShopify:
    """The shop under test (a Plus-sized bucket: 2,000 points, 1,000 restored a second)."""
    return FakeShopify(bucket=Bucket(maximum=2000, restore_rate=1000, available=2000))


def _serve_fake(port: int, count: int) -> None:
    fake = fake_shop()
    for n in range(count):
        fake.stock(inventory_item(n), LOC, 0, sku=sku(n))
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def serve(count: int) -> tuple[multiprocessing.Process, str]:
    """The fake Shopify in its own process, as the real one is on another machine."""
    port = _port()
    process = multiprocessing.Process(target=_serve_fake, args=(port, count), daemon=True)
    process.start()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)


def _bulk_catalog(engine: Engine, count: int) -> None:
    """Items with `UNITS` at WH1 each, listed on `shop` and `web`, in one transaction."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(items),
            [
                {"sku": sku(n), "title": sku(n), "tags": [], "created_at": now, "updated_at": now}
                for n in range(count)
            ],
        )
        item_ids = dict(conn.execute(text("SELECT sku, id FROM items")).all())
        wh1 = conn.execute(text("SELECT id FROM locations WHERE code = 'WH1'")).scalar_one()
        channel_ids = dict(conn.execute(text("SELECT code, id FROM channels")).all())
        ids = [item_ids[sku(n)] for n in range(count)]
        level = {"location_id": wh1, "on_hand": UNITS, "available": UNITS, "version": 1}
        conn.execute(insert(stock_levels), [{"item_id": i, **level} for i in ids])
        receipt = {"location_id": wh1, "kind": "receipt", "quantity": UNITS, "reason": "seed"}
        conn.execute(
            insert(movements),
            [{"item_id": i, **receipt, "actor": "bench", "reference": "", "at": now} for i in ids],
        )
        conn.execute(
            insert(listings),
            [
                {
                    "channel_id": channel_ids[code],
                    "listing_id": f"{prefix}-{sku(n)}",
                    "channel_sku": sku(n),
                    "item_id": item_ids[sku(n)],
                    "units": 1,
                    "created_at": now,
                }
                for code, prefix in (("shop", "S"), ("web", "W"))
                for n in range(count)
            ],
        )
        add_missing_ats_rows(conn)
        conn.execute(text("UPDATE allocation_config SET version = version + 1"))


def _bulk_map(engine: Engine, count: int) -> None:
    """Map every `shop` listing to its inventory item at the fake's location. The fake was
    stocked with 0 of each by us, so that is what the channel is known to hold."""
    with engine.begin() as conn:
        shop = conn.execute(text("SELECT id FROM channels WHERE code = 'shop'")).scalar_one()
        rows = dict(
            conn.execute(
                select(listings.c.listing_id, listings.c.id).where(listings.c.channel_id == shop)
            ).all()
        )
        conn.execute(
            insert(sync_listings),
            [
                {
                    "listing_row_id": rows[f"S-{sku(n)}"],
                    "channel_id": shop,
                    "remote_item": inventory_item(n),
                    "remote_location": LOC,
                    "channel_quantity": 0,
                }
                for n in range(count)
            ],
        )


def setup(app: Services, fake: FakeShopify, base_url: str, count: int) -> None:
    """Our side: one item per listing with `UNITS` units, listed on `shop` and `web`, the
    `shop` listings mapped to the fake's items; connecting queues every one of them."""
    engine: Engine = app.uow.engine  # type: ignore[attr-defined]
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    channels.add_channel(app, "shop", "shopify", ["WH1"], priority=1)
    channels.add_channel(app, "web", "other", ["WH1"], priority=2)
    _bulk_catalog(engine, count)
    ats.recompute_all(app)
    _bulk_map(engine, count)
    sync.connect(
        app, "shop", shop=fake.shop, base_url=base_url, token=fake.token, secrets=[fake.secret]
    )


def place_orders(url: str, count: int, rate: float, seconds: float, out: Any) -> None:
    """Check-and-reserve orders of one unit at `rate` a second, in their own process, from
    `PLACERS` threads (one alone cannot place 100 a second on PostgreSQL here)."""
    app = build_services(Settings(database_url=url, data_dir=Path(".")))
    placed = [0] * PLACERS
    start = time.monotonic()

    def placer(index: int) -> None:
        rnd = random.Random(index)
        while time.monotonic() - start < seconds:
            due = start + (placed[index] * PLACERS + index) / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            line = orders.line_requests([(f"W-{sku(rnd.randrange(count))}", 1)])
            orders.reserve(app, "web", f"o{index}-{placed[index]}", line, actor=ME)
            placed[index] += 1

    threads = [threading.Thread(target=placer, args=(i,)) for i in range(PLACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.put((sum(placed), time.monotonic() - start))


async def raw_push_ms(base_url: str, fake: FakeShopify, samples: int = 50) -> float:
    """The median round trip of one bare push to the fake (the floor of any lag)."""
    times = []
    async with httpx.AsyncClient() as client:
        connector = ShopifyConnector(
            client, ShopifySettings(fake.shop, base_url, fake.token, (fake.secret,))
        )
        ref = RemoteRef(inventory_item(0), LOC)
        await asyncio.sleep(2.0)  # let the cost bucket fill up again
        for n in range(samples):
            current = (await connector.fetch_quantities([ref]))[ref]
            t = time.perf_counter()
            await connector.push_quantities([QuantityPush("raw", ref, current, current, -n)])
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def dispatch_until(
    app: Services, stop: Callable[[], bool], *, read_back: bool = True
) -> dict[int, int | None]:
    """Run a dispatcher until `stop()`, drain, and read every quantity back (if asked)."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        dispatcher = Dispatcher(app, client, settings=DispatchSettings(idle_seconds=0.01))
        dispatcher.refresh()
        while not stop():
            if await dispatcher.pass_once() == 0:
                await asyncio.sleep(0.01)
        await dispatcher.workers["shop"].drain()
        return await dispatcher.workers["shop"].read_back() if read_back else {}


def fresh_postgres(name: str = "stockpool_bench_sync") -> str:
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def measure(store: str, count: int, seconds: float, workdir: Path) -> dict[str, Any]:
    """One store's figures."""
    url = f"sqlite:///{workdir / 'sync.db'}" if store == "sqlite" else fresh_postgres()
    settings = Settings(database_url=url, data_dir=workdir)
    initialise(settings).dispose()
    app = build_services(settings)
    fake = fake_shop()
    server, base_url = serve(count)
    try:
        t = time.monotonic()
        setup(app, fake, base_url, count)
        setup_s = time.monotonic() - t
        t = time.monotonic()
        asyncio.run(dispatch_until(app, lambda: True, read_back=False))  # the initial sync
        console.print(
            f"{store}: {count} listings set up in {setup_s:.1f} s,"
            f" pushed in {time.monotonic() - t:.1f} s"
        )
        figures = {"setup_s": round(setup_s, 1), **under_load(app, url, count, seconds)}
        figures["raw_push_p50_ms"] = round(asyncio.run(raw_push_ms(base_url, fake)), 2)
    finally:
        server.terminate()
        app.uow.engine.dispose()  # type: ignore[attr-defined]
    return figures


def under_load(app: Services, url: str, count: int, seconds: float) -> dict[str, Any]:
    """Orders at `RATE` a second in another process while a dispatcher pushes."""
    started = app.clock()
    results: Any = multiprocessing.Queue()
    placer = multiprocessing.Process(target=place_orders, args=(url, count, RATE, seconds, results))
    placer.start()
    actual = asyncio.run(dispatch_until(app, lambda: not placer.is_alive()))
    placed, elapsed = results.get()
    with app.uow() as uow:
        lags = uow.sync.health(uow.sync.connections()[0].channel, since=started).lags_ms
        stored = {row: value for row, value, _ in uow.ats.stored_rows(list(actual))}
    return {
        "orders": placed,
        "orders_per_s": round(placed / elapsed, 1),
        "acks": len(lags),
        "p50_ms": sync.percentile(lags, 0.5),
        "p99_ms": sync.percentile(lags, 0.99),
        "max_ms": lags[-1] if lags else None,
        "listings_wrong_on_channel": sum(1 for row, v in stored.items() if actual[row] != v),
    }


def reachable(store: str) -> bool:
    if store != "postgres":
        return True
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        console.print(f"postgres skipped: {exc}")
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 listings, 5 s of orders.")
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    count, seconds = (500, 5.0) if args.quick else (5000, 30.0)
    result: dict[str, Any] = {
        "benchmark": "sync_latency",
        "cores": os.cpu_count(),
        "listings": count,
        "target_orders_per_s": RATE,
        "target_p99_ms": TARGET_P99_MS,
    }
    table = Table("store", "orders/s", "acks", "p50 ms", "p99 ms", "max ms", "raw push ms", "wrong")
    with tempfile.TemporaryDirectory() as tmp:
        for store in args.stores.split(","):
            if not reachable(store):
                continue
            figures = measure(store, count, seconds, Path(tmp))
            result[store] = figures
            keys = ("orders_per_s", "acks", "p50_ms", "p99_ms", "max_ms", "raw_push_p50_ms")
            table.add_row(
                store, *(str(figures[k]) for k in keys), str(figures["listings_wrong_on_channel"])
            )
    console.print(table)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
