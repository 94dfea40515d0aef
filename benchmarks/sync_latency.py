"""How long from an order's commit to Shopify's acknowledgement of the new quantity?

5,000 listings on a fake Shopify served by uvicorn on 127.0.0.1; orders arrive at 100/s
through another channel (check-and-reserve), each lowering one Shopify listing's ATS; the
dispatcher pushes. Reports p50/p99 of the lag from the change's commit to the
acknowledgement, and as reference the round trip of one bare push to the same fake.
Last line: one JSON object. `--quick`: 500 listings, 5 seconds of orders.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.channels.protocol import QuantityPush, RemoteRef
from stockpool.channels.shopify import ShopifyConnector, ShopifySettings
from stockpool.fakes.shopify import Bucket, FakeShopify
from stockpool.services import catalog, channels, orders, stock, sync
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.sync.dispatcher import Dispatcher, DispatchSettings

LOC = "gid://shopify/Location/1"
ME = Actor("bench")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve_fake(port: int, listings: int) -> None:
    fake = fake_shop()
    for n in range(listings):
        fake.stock(f"gid://shopify/InventoryItem/{n + 1}", LOC, 0, sku=f"SKU{n:05d}")
    uvicorn.run(fake.app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def fake_shop() -> FakeShopify:
    """The shop under test (a Plus-sized bucket: 2,000 points, 1,000 restored a second)."""
    return FakeShopify(bucket=Bucket(maximum=2000, restore_rate=1000, available=2000))


def serve(listings: int) -> tuple[multiprocessing.Process, str]:
    """The fake Shopify in its own process, as the real one is on another machine."""
    port = _port()
    process = multiprocessing.Process(target=_serve_fake, args=(port, listings), daemon=True)
    process.start()
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)


def setup(app: Services, fake: FakeShopify, base_url: str, listings: int) -> None:
    """Our side: one item per listing with 1,000 units, listed on `shop` and `web`."""
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    channels.add_channel(app, "shop", "shopify", ["WH1"], priority=1)
    channels.add_channel(app, "web", "other", ["WH1"], priority=2)
    sync.connect(
        app, "shop", shop=fake.shop, base_url=base_url, token=fake.token, secrets=[fake.secret]
    )
    for n in range(listings):
        sku, item = f"SKU{n:05d}", f"gid://shopify/InventoryItem/{n + 1}"
        catalog.add_item(app, sku, sku)
        stock.receive(app, sku, "WH1", 1000, actor=ME)
        channels.add_listing(app, "shop", f"S-{sku}", sku)
        channels.add_listing(app, "web", f"W-{sku}", sku)
        sync.map_listing(app, "shop", f"S-{sku}", item=item, location=LOC)


def place_orders(url: str, listings: int, rate: float, seconds: float, out: Any) -> None:
    """Check-and-reserve orders of one unit at `rate` a second, in their own process."""
    app = build_services(Settings(database_url=url, data_dir=Path(".")))
    rnd, placed, start = random.Random(7), 0, time.monotonic()
    while time.monotonic() - start < seconds:
        due = start + placed / rate
        if due > time.monotonic():
            time.sleep(due - time.monotonic())
        sku = f"SKU{rnd.randrange(listings):05d}"
        orders.reserve(app, "web", f"o{placed}", orders.line_requests([(f"W-{sku}", 1)]), actor=ME)
        placed += 1
    out.put(placed)


async def raw_push_ms(base_url: str, fake: FakeShopify, samples: int = 50) -> float:
    """The median round trip of one bare push to the fake (the floor of any lag)."""
    times = []
    async with httpx.AsyncClient() as client:
        connector = ShopifyConnector(
            client, ShopifySettings(fake.shop, base_url, fake.token, (fake.secret,))
        )
        ref = RemoteRef("gid://shopify/InventoryItem/1", LOC)
        for n in range(samples):
            current = (await connector.fetch_quantities([ref]))[ref]
            t = time.perf_counter()
            await connector.push_quantities([QuantityPush("raw", ref, current, current, -n)])
            times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


async def dispatch_until(app: Services, stop: Callable[[], bool]) -> dict[int, int | None]:
    """Run the dispatcher until `stop()`, drain, and read every quantity back."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(10.0)) as client:
        dispatcher = Dispatcher(
            app,
            client,
            settings=DispatchSettings(idle_seconds=0.01, poll_seconds=3600, reconcile_seconds=3600),
        )
        dispatcher.refresh()
        while not stop():
            if await dispatcher.pass_once() == 0:
                await asyncio.sleep(0.01)
        await dispatcher.workers["shop"].drain()
        return await dispatcher.workers["shop"].read_back()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    listings, seconds, rate = (500, 5.0, 100.0) if args.quick else (5000, 30.0, 100.0)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(database_url=url, data_dir=Path(tmp))
        initialise(settings).dispose()
        app = build_services(settings)
        fake = fake_shop()
        server, base_url = serve(listings)
        setup(app, fake, base_url, listings)
        asyncio.run(dispatch_until(app, lambda: True))  # the initial full sync
        started = app.clock()
        results: Any = multiprocessing.Queue()
        placer = multiprocessing.Process(
            target=place_orders, args=(url, listings, rate, seconds, results)
        )
        t0 = time.monotonic()
        placer.start()
        actual = asyncio.run(dispatch_until(app, lambda: not placer.is_alive()))
        elapsed = time.monotonic() - t0
        placed = int(results.get())
        with app.uow() as uow:
            lags = uow.sync.health(uow.sync.connections()[0].channel, since=started).lags_ms
            stored = {row: ats for row, (ats, _) in uow.ats.stored(list(actual)).items()}
        raw = asyncio.run(raw_push_ms(base_url, fake))
        server.terminate()
    wrong = sum(1 for row, ats in stored.items() if actual[row] != ats)
    result = {
        "benchmark": "sync_latency",
        "store": url.split(":", 1)[0],
        "listings": listings,
        "orders": placed,
        "orders_per_s": round(placed / elapsed, 1),
        "acks": len(lags),
        "p50_ms": sync.percentile(lags, 0.5),
        "p99_ms": sync.percentile(lags, 0.99),
        "raw_push_p50_ms": round(raw, 2),
        "target_p99_ms": 1000,
        "listings_wrong_on_channel": wrong,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
