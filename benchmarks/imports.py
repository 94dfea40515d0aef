"""How fast a stock CSV import runs through the service layer, against the raw write rate.

Imports a file of N stock rows (SKU, location, on_hand; every row changes on_hand) with
`stockpool.services.imports.import_stock`, showing the same progress bar as the CLI, on
SQLite and on PostgreSQL. In the same run, the reference: the raw rate of the same writes
(one conditional UPDATE and one movement INSERT per row, batched in one transaction) on the
same database, with no parsing or validation. Runs alternate; medians are reported.
Last line: one JSON object.

    python benchmarks/imports.py [--quick] [--rows N] [--runs R] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.services import catalog, imports
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.store.engine import SQLITE_PRAGMAS

console = Console(stderr=True)
LOCATIONS = ("WH1", "WH2")
PG_URL = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def seed(app: Services, url: str, items: int) -> None:
    """Locations through the services; items in one raw batch (seeding is not measured)."""
    for code in LOCATIONS:
        catalog.add_location(app, code, code, "warehouse")
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = [(f"SKU-{n:06d}", f"item {n}", "[]", now, now) for n in range(items)]
    sql = "INSERT INTO items (sku, title, tags, created_at, updated_at) VALUES ({p})"
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            conn.executemany(sql.format(p="?, ?, ?, ?, ?"), rows)
    else:
        with psycopg.connect(url) as conn, conn.cursor() as cur:
            cur.executemany(sql.format(p="%s, %s, %s, %s, %s"), rows)


def stock_file(rows: int, run: int) -> bytes:
    """N rows over the items x locations, each with a figure that differs from the last run."""
    lines = ["sku,location,on_hand"]
    for n in range(rows):
        item, place = divmod(n, len(LOCATIONS))
        lines.append(f"SKU-{item:06d},{LOCATIONS[place]},{100 + 10 * run + n % 7}")
    return ("\n".join(lines) + "\n").encode()


def service_run(app: Services, data: bytes) -> float:
    """Rows per second of one import, with the CLI's progress bar."""
    rows = data.count(b"\n") - 1
    with Progress(
        "import", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
        transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task("import", total=rows)
        start = time.perf_counter()
        report = imports.import_stock(
            app,
            data,
            name="bench.csv",
            actor=Actor("bench", "bench.csv"),
            progress=lambda done, total: bar.update(task, completed=done),
        )
        elapsed = time.perf_counter() - start
    assert report.imported == rows, report
    return rows / elapsed


def raw_run(url: str, rows: int, run: int) -> float:
    """Rows per second of the bare writes: batched UPDATE + INSERT in one transaction."""
    now = datetime.now(UTC)
    params = [
        (1 if run % 2 else -1, n // len(LOCATIONS) + 1, n % len(LOCATIONS) + 1) for n in range(rows)
    ]
    update = (
        "UPDATE stock_levels SET on_hand = on_hand + {p}, available = available + {p}, "
        "version = version + 1 WHERE item_id = {p} AND location_id = {p} AND on_hand + {p} >= 0"
    )
    insert = (
        "INSERT INTO movements (item_id, location_id, kind, quantity, reason, actor, reference, "
        "at) VALUES ({p}, {p}, 'count', {p}, 'raw', 'bench', '', {p})"
    )
    upd = [(q, q, i, loc, q) for q, i, loc in params]
    start = time.perf_counter()
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        for pragma in SQLITE_PRAGMAS:  # the store's own settings
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(update.format(p="?"), upd)
        conn.executemany(
            insert.format(p="?"), [(i, loc, q, now.replace(tzinfo=None)) for q, i, loc in params]
        )
        conn.execute("COMMIT")
        conn.close()
    else:
        with psycopg.connect(url) as pg, pg.cursor() as cur:
            cur.executemany(update.format(p="%s"), upd)
            cur.executemany(insert.format(p="%s"), [(i, loc, q, now) for q, i, loc in params])
    return rows / (time.perf_counter() - start)


def fresh_postgres(name: str) -> str:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.rsplit("/", 1)[0] + "/" + name


def measure(store: str, rows: int, runs: int, workdir: Path) -> dict[str, Any]:
    url = (
        f"sqlite:///{workdir / 'imports.db'}"
        if store == "sqlite"
        else fresh_postgres("stockpool_bench_imports")
    )
    settings = Settings(database_url=url, data_dir=workdir)
    initialise(settings).dispose()
    app = build_services(settings)
    console.print(f"[bold]{store}[/bold]: seeding {rows // len(LOCATIONS)} items")
    seed(app, url, (rows + 1) // len(LOCATIONS))
    service_run(app, stock_file(rows, 0))  # first import creates the levels: warm-up
    service_rates, raw_rates = [], []
    for run in range(1, runs + 1):
        service_rates.append(service_run(app, stock_file(rows, run)))
        raw_rates.append(raw_run(url, rows, run))
    app.uow.engine.dispose()  # type: ignore[attr-defined]
    service, raw = statistics.median(service_rates), statistics.median(raw_rates)
    return {
        "rows_per_s": round(service),
        "raw_rows_per_s": round(raw),
        "ratio": round(service / raw, 3),
        "seconds": round(rows / service, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 rows, 1 run.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    rows, runs = (10_000, 1) if args.quick else (args.rows, args.runs)
    stores = args.stores.split(",")
    results: dict[str, Any] = {
        "benchmark": "imports",
        "store": stores[0],
        "rows": rows,
        "runs": runs,
        "cores": os.cpu_count(),
    }
    table = Table("store", "rows/s", "raw rows/s", "ratio", "s per import", title="stock import")
    with tempfile.TemporaryDirectory() as tmp:
        for store in stores:
            try:
                figures = measure(store, rows, runs, Path(tmp))
            except psycopg.OperationalError as exc:
                console.print(f"[yellow]{store} skipped:[/yellow] {exc}")
                continue
            if store == stores[0]:
                results.update(figures)
            results[store] = figures
            table.add_row(
                store,
                *(str(figures[k]) for k in ("rows_per_s", "raw_rows_per_s", "ratio", "seconds")),
            )
    console.print(table)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
