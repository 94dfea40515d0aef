"""How many ledger operations per second the service layer sustains, against the raw rate.

Receives and adjustments of one unit on random items, each its own transaction through
`stockpool.services`, on SQLite and on PostgreSQL. In the same run, the raw rate of a
comparable hand-written transaction on the same database and settings: one conditional
single-row UPDATE plus one INSERT, committed. Last line: one JSON object.

    python benchmarks/ledger.py [--quick] [--stores sqlite,postgres] [--seconds S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from rich.console import Console
from rich.table import Table

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.services import catalog, stock
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.store.engine import SQLITE_PRAGMAS

console = Console(stderr=True)
ITEMS = 1000
LOCATIONS = ("WH1", "WH2", "WH3")
PG_URL = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def seed(app: Services) -> None:
    """A catalog with stock everywhere, so that single-unit losses always succeed."""
    for code in LOCATIONS:
        catalog.add_location(app, code, code, "warehouse")
    with app.uow() as uow:  # one transaction for the seed keeps setup quick
        from stockpool.domain.catalog import Item
        from stockpool.domain.ids import Sku
        from stockpool.domain.ledger import StockDelta

        now = datetime.now(UTC)
        for n in range(ITEMS):
            uow.catalog.add_item(Item(Sku(f"SKU-{n:05d}"), f"item {n}"), at=now)
        uow.commit()
    for n in range(ITEMS):
        for code in LOCATIONS:
            stock.receive(app, f"SKU-{n:05d}", code, 1000, actor=Actor("seed"))
    del StockDelta


def run_for(seconds: float, op: Callable[[random.Random], None]) -> float:
    """Operations per second of `op`, run back to back for `seconds`."""
    rng = random.Random(7)
    for _ in range(50):  # warm caches and connections
        op(rng)
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        op(rng)
        done += 1
    return done / elapsed


def service_op(app: Services) -> Callable[[random.Random], None]:
    actor = Actor("bench")

    def op(rng: random.Random) -> None:
        sku, loc = f"SKU-{rng.randrange(ITEMS):05d}", rng.choice(LOCATIONS)
        if rng.random() < 0.5:
            stock.receive(app, sku, loc, 1, actor=actor)
        else:
            stock.adjust(app, sku, loc, -1, reason="bench", actor=actor)

    return op


RAW_UPDATE = (
    "UPDATE stock_levels SET on_hand = on_hand + {p}, available = available + {p}, "
    "version = version + 1 WHERE item_id = {p} AND location_id = {p} AND available + {p} >= 0"
)
RAW_INSERT = (
    "INSERT INTO movements (item_id, location_id, kind, quantity, reason, actor, reference, at)"
    " VALUES ({p}, {p}, 'adjustment', {p}, 'raw', 'bench', '', {p})"
)


def raw_sqlite_op(path: str) -> Callable[[random.Random], None]:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in SQLITE_PRAGMAS:  # the store's own settings
        conn.execute(f"PRAGMA {pragma}")
    update, insert = RAW_UPDATE.format(p="?"), RAW_INSERT.format(p="?")

    def op(rng: random.Random) -> None:
        item, loc = rng.randrange(ITEMS) + 1, rng.randrange(len(LOCATIONS)) + 1
        q = 1 if rng.random() < 0.5 else -1
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(update, (q, q, item, loc, q))
        assert cur.rowcount == 1
        conn.execute(insert, (item, loc, q, datetime.now(UTC).replace(tzinfo=None)))
        conn.execute("COMMIT")

    return op


def raw_postgres_op(url: str) -> Callable[[random.Random], None]:
    conn = psycopg.connect(url)
    update, insert = RAW_UPDATE.format(p="%s"), RAW_INSERT.format(p="%s")

    def op(rng: random.Random) -> None:
        item, loc = rng.randrange(ITEMS) + 1, rng.randrange(len(LOCATIONS)) + 1
        q = 1 if rng.random() < 0.5 else -1
        with conn.cursor() as cur:
            cur.execute(update, (q, q, item, loc, q))
            assert cur.rowcount == 1
            cur.execute(insert, (item, loc, q, datetime.now(UTC)))
        conn.commit()

    return op


def fresh_postgres(name: str) -> str:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def measure(store: str, seconds: float, workdir: Path) -> dict[str, float]:
    if store == "sqlite":
        path = workdir / "ledger.db"
        url = f"sqlite:///{path}"
    else:
        url = fresh_postgres("stockpool_bench_ledger")
    settings = Settings(database_url=url, data_dir=workdir)
    initialise(settings).dispose()
    app = build_services(settings)
    console.print(f"[bold]{store}[/bold]: seeding {ITEMS} items x {len(LOCATIONS)} locations")
    seed(app)
    service = service_op(app)
    raw_op = raw_sqlite_op(str(path)) if store == "sqlite" else raw_postgres_op(url)
    # Alternate short rounds of each and take medians: a shared machine's noise then hits
    # both sides alike instead of one whole figure.
    rounds = 5
    service_rates, raw_rates = [], []
    for _ in range(rounds):
        service_rates.append(run_for(seconds / rounds, service))
        raw_rates.append(run_for(seconds / rounds, raw_op))
    ops, raw = statistics.median(service_rates), statistics.median(raw_rates)
    return {"ops_per_s": round(ops, 1), "raw_tx_per_s": round(raw, 1), "ratio": round(ops / raw, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A short run (3 s per figure).")
    parser.add_argument("--seconds", type=float, default=10.0, help="Seconds per figure.")
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    results: dict[str, object] = {"benchmark": "ledger", "cores": os.cpu_count()}
    table = Table("store", "service ops/s", "raw tx/s", "ratio", title="ledger: 1-unit ops")
    with tempfile.TemporaryDirectory() as tmp:
        for store in args.stores.split(","):
            figures = measure(store, seconds, Path(tmp))
            results[store] = figures
            table.add_row(store, *(str(figures[k]) for k in ("ops_per_s", "raw_tx_per_s", "ratio")))
    console.print(table)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
