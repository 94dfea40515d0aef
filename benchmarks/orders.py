"""How many check-and-reserve orders per second the service accepts, against the raw rate.

10,000 items at 3 locations, 6 channels listing every item; orders of 1-3 lines over
Zipf-distributed items, sent by N concurrent workers through `stockpool.services.orders`,
each order its own transaction (lock the items' levels, compute ATS, source, commit, store
the new ATS). In the same run, the raw database rate of a hand-written reservation on the
same database and settings: one conditional UPDATE plus one INSERT per transaction, by the
same number of workers. Oversells are counted afterwards: committed units beyond what an
item had, accepted units that are not committed, and every difference `verify` finds.
Last line: one JSON object.

    python benchmarks/orders.py [--quick] [--workers N] [--stores sqlite,postgres]
                                [--stock demand|flat]
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import random
import sqlite3
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, insert, text

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.domain.orders import OrderRefused
from stockpool.services import ats, catalog, channels, orders
from stockpool.services.context import Services
from stockpool.services.orders import line_requests
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from stockpool.store.allocation_tables import listings
from stockpool.store.channels import add_missing_ats_rows
from stockpool.store.engine import SQLITE_PRAGMAS
from stockpool.store.tables import items, movements, stock_levels

console = Console(stderr=True)
ITEMS = 10_000
LOCATIONS = ("WH1", "WH2", "WH3")
CHANNELS = ("web", "amzn", "ebay", "walmart", "tiktok", "pos")
UNITS = 40  # per item and location: all of it with --stock flat, the least with demand
ZIPF_S = 1.1
# --stock demand: each item stocked for its share of this many order lines, as a store
# replenished by demand is; the few best sellers then hold thousands of units, the long tail
# UNITS. With --stock flat, the best sellers sell out within seconds and most orders after
# that are refused: a benchmark of refusals more than of reservations.
DEMAND_LINES = 600_000
LOADED_TABLES = ("items", "locations", "channels", "stock_levels", "movements", "listings")
PG_URL = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
ACTOR = Actor("bench")


def sku(n: int) -> str:
    return f"SKU-{n:05d}"


class Zipf:
    """Item numbers drawn with probability proportional to 1 / rank**s."""

    def __init__(self, n: int, s: float) -> None:
        weights = [1 / (k + 1) ** s for k in range(n)]
        total, running = sum(weights), 0.0
        self.cumulative = []
        for weight in weights:
            running += weight / total
            self.cumulative.append(running)

    def draw(self, rng: random.Random) -> int:
        return min(bisect.bisect_left(self.cumulative, rng.random()), len(self.cumulative) - 1)


def stocked(zipf: Zipf, stock: str) -> list[int]:
    """Units per location of each item: UNITS, or by demand (see DEMAND_LINES)."""
    if stock == "flat":
        return [UNITS] * ITEMS
    shares = [b - a for a, b in zip([0.0, *zipf.cumulative], zipf.cumulative, strict=False)]
    return [max(UNITS, int(share * DEMAND_LINES / len(LOCATIONS)) + 1) for share in shares]


def seed(app: Services, engine: Engine, stock: str = "demand") -> None:
    """Locations and channels through the services; items, stock and listings in bulk."""
    units = stocked(Zipf(ITEMS, ZIPF_S), stock)
    for priority, code in enumerate(LOCATIONS, 1):
        catalog.add_location(app, code, code, "warehouse", zone=f"z{priority}", priority=priority)
    for priority, code in enumerate(CHANNELS, 1):
        channels.add_channel(app, code, "other", list(LOCATIONS), priority=priority)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(items),
            [
                {
                    "sku": sku(n),
                    "title": f"item {n}",
                    "tags": [],
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(ITEMS)
            ],
        )
        item_ids = dict(conn.execute(text("SELECT sku, id FROM items")).all())
        location_ids = dict(conn.execute(text("SELECT code, id FROM locations")).all())
        channel_ids = dict(conn.execute(text("SELECT code, id FROM channels")).all())
        levels = [
            (item_ids[sku(n)], location_ids[c], units[n]) for n in range(ITEMS) for c in LOCATIONS
        ]
        conn.execute(
            insert(stock_levels),
            [
                {
                    "item_id": i,
                    "location_id": loc,
                    "on_hand": q,
                    "available": q,
                    "version": 1,
                }
                for i, loc, q in levels
            ],
        )
        conn.execute(
            insert(movements),
            [
                {
                    "item_id": i,
                    "location_id": loc,
                    "kind": "receipt",
                    "quantity": q,
                    "reason": "seed",
                    "actor": "bench",
                    "reference": "",
                    "at": now,
                }
                for i, loc, q in levels
            ],
        )
        conn.execute(
            insert(listings),
            [
                {
                    "channel_id": channel_ids[c],
                    "listing_id": f"{c}-{n}",
                    "channel_sku": sku(n),
                    "item_id": item_ids[sku(n)],
                    "units": 1,
                    "created_at": now,
                }
                for c in CHANNELS
                for n in range(ITEMS)
            ],
        )
        add_missing_ats_rows(conn)
        conn.execute(text("UPDATE allocation_config SET version = version + 1"))
    if engine.dialect.name == "postgresql":
        # What autovacuum does a minute after a bulk load: analyse the tables loaded, and
        # only those. Statistics of still-empty order tables would have PostgreSQL plan
        # full scans of them (foreign-key checks too) for as long as a connection lives.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"ANALYZE {', '.join(LOADED_TABLES)}"))
    ats.recompute_all(app)


class Load:
    """Workers sending orders for a while; accepted count, latencies, accepted units."""

    def __init__(self, app: Services, workers: int) -> None:
        self.app, self.workers = app, workers
        self.zipf = Zipf(ITEMS, ZIPF_S)
        self.serial = iter(range(10**9))
        self.lock = threading.Lock()
        self.latencies: list[float] = []
        self.accepted = 0
        self.refused = 0
        self.units: dict[str, int] = {}

    def order(self, rng: random.Random) -> None:
        channel = rng.choice(CHANNELS)
        picked = {self.zipf.draw(rng) for _ in range(rng.randint(1, 3))}
        lines = [(f"{channel}-{n}", 1) for n in sorted(picked)]
        with self.lock:
            number = next(self.serial)
        start = time.perf_counter()
        try:
            orders.reserve(self.app, channel, f"b-{number}", line_requests(lines), actor=ACTOR)
        except OrderRefused:
            with self.lock:
                self.refused += 1
            return
        took = time.perf_counter() - start
        with self.lock:
            self.accepted += 1
            self.latencies.append(took)
            for n in picked:
                self.units[sku(n)] = self.units.get(sku(n), 0) + 1

    def run(self, seconds: float) -> float:
        """Accepted orders per second over `seconds`."""
        before, start = self.accepted, time.perf_counter()
        run_threads(self.workers, seconds, self.order)
        return (self.accepted - before) / (time.perf_counter() - start)


def run_threads(workers: int, seconds: float, op: Callable[[random.Random], None]) -> float:
    """Run `op` in `workers` threads for `seconds`; returns operations per second."""
    done = [0] * workers
    stop = time.perf_counter() + seconds

    def loop(index: int) -> None:
        rng = random.Random(index * 7919 + int(time.time() * 1000))
        while time.perf_counter() < stop:
            op(rng)
            done[index] += 1

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(workers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


RAW_TABLE = (
    "CREATE TABLE IF NOT EXISTS raw_reservations (item_id BIGINT, location_id BIGINT, q BIGINT)"
)
# The reservation's write without changing balances, so that verify stays meaningful.
RAW_UPDATE = (
    "UPDATE stock_levels SET version = version + 1 "
    "WHERE item_id = {p} AND location_id = {p} AND available >= {p}"
)
RAW_INSERT = "INSERT INTO raw_reservations (item_id, location_id, q) VALUES ({p}, {p}, {p})"


def raw_sqlite(path: str, zipf: Zipf) -> Callable[[random.Random], None]:
    local = threading.local()
    update, insert_sql = RAW_UPDATE.format(p="?"), RAW_INSERT.format(p="?")

    def connection() -> sqlite3.Connection:
        if not hasattr(local, "conn"):
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            for pragma in SQLITE_PRAGMAS:  # the store's own settings
                conn.execute(f"PRAGMA {pragma}")
            conn.execute(RAW_TABLE)
            local.conn = conn
        return local.conn  # type: ignore[no-any-return]

    def op(rng: random.Random) -> None:
        conn = connection()
        item, loc = zipf.draw(rng) + 1, rng.randrange(len(LOCATIONS)) + 1
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(update, (item, loc, 1))
        if cur.rowcount == 1:
            conn.execute(insert_sql, (item, loc, 1))
        conn.execute("COMMIT")

    return op


def raw_postgres(url: str, zipf: Zipf) -> Callable[[random.Random], None]:
    local = threading.local()
    update, insert_sql = RAW_UPDATE.format(p="%s"), RAW_INSERT.format(p="%s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_TABLE)

    def op(rng: random.Random) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(url)
        conn = local.conn
        item, loc = zipf.draw(rng) + 1, rng.randrange(len(LOCATIONS)) + 1
        with conn.cursor() as cur:
            cur.execute(update, (item, loc, 1))
            if cur.rowcount == 1:
                cur.execute(insert_sql, (item, loc, 1))
        conn.commit()

    return op


def fresh_postgres(name: str) -> str:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def oversells(app: Services, engine: Engine, load: Load) -> int:
    """Committed beyond what an item had, accepted units not committed, verify differences."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT i.sku, SUM(s.committed), SUM(s.on_hand) FROM stock_levels s "
                "JOIN items i ON i.id = s.item_id GROUP BY i.sku"
            )
        ).all()
    committed = {s: units for s, units, _ in rows}
    beyond = sum(1 for _, units, held in rows if units > held)  # nothing ships in a run
    mismatched = sum(1 for s, units in load.units.items() if committed.get(s, 0) != units)
    report = verify(app)
    return beyond + mismatched + len(report.differences) + len(report.invariant_violations)


def measure(
    store: str, seconds: float, workers: int, workdir: Path, stock: str = "demand"
) -> dict[str, float]:
    if store == "sqlite":
        path = workdir / "orders.db"
        url = f"sqlite:///{path}"
    else:
        url = fresh_postgres("stockpool_bench_orders")
    settings = Settings(database_url=url, data_dir=workdir)
    initialise(settings).dispose()
    app = build_services(settings, pool_size=workers)
    engine: Engine = app.uow.engine  # type: ignore[attr-defined]
    console.print(f"[bold]{store}[/bold]: seeding {ITEMS} items, {len(CHANNELS)} channels")
    seed(app, engine, stock)
    load = Load(app, workers)
    raw_op = raw_sqlite(str(path), load.zipf) if store == "sqlite" else raw_postgres(url, load.zipf)
    rounds = 3
    service_rates, raw_rates = [], []
    load.run(min(2.0, seconds / rounds))  # warm the plan, caches and connections
    load.latencies.clear()
    for _ in range(rounds):
        service_rates.append(load.run(seconds / rounds))
        raw_rates.append(run_threads(workers, seconds / rounds, raw_op))
    rate, raw = statistics.median(service_rates), statistics.median(raw_rates)
    latencies = sorted(load.latencies)
    figures = {
        "orders_per_s": round(rate, 1),
        "raw_tx_per_s": round(raw, 1),
        "ratio": round(rate / raw, 3),
        "p50_ms": round(1000 * latencies[len(latencies) // 2], 2),
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)], 2),
        "accepted": load.accepted,
        "refused": load.refused,
        "oversells": oversells(app, engine, load),
    }
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A short run (6 s per store).")
    parser.add_argument("--seconds", type=float, default=30.0, help="Seconds per store.")
    parser.add_argument(
        "--workers",
        type=int,
        default=64,
        help="Concurrent workers (64, as in the concurrency test); the raw reference uses as many.",
    )
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--stock", choices=("demand", "flat"), default="demand")
    args = parser.parse_args()
    seconds = 6.0 if args.quick else args.seconds
    results: dict[str, object] = {
        "benchmark": "orders",
        "cores": os.cpu_count(),
        "workers": args.workers,
        "stock": args.stock,
    }
    table = Table(
        "store",
        "orders/s",
        "raw tx/s",
        "ratio",
        "p50 ms",
        "p99 ms",
        "oversells",
        title=f"check-and-reserve, {args.workers} workers",
    )
    with tempfile.TemporaryDirectory() as tmp:
        for store in args.stores.split(","):
            figures = measure(store, seconds, args.workers, Path(tmp), args.stock)
            results[store] = figures
            table.add_row(
                store,
                *(
                    str(figures[k])
                    for k in (
                        "orders_per_s",
                        "raw_tx_per_s",
                        "ratio",
                        "p50_ms",
                        "p99_ms",
                        "oversells",
                    )
                ),
            )
    console.print(table)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
