"""Full and incremental ATS recompute on a large generated catalog, through the store.

100,000 items, 5 locations, 8 channels, one listing per item per channel (800,000 listings;
5% bundles, 5% multipacks, rules at every level). Prints the full recompute time (compile
the plan, load stock, compute, store, commit) and the median and p99 of the incremental recompute
after one stock change (excluding the commit). Last line: one JSON object.

    python benchmarks/ats.py [--quick] [--items N] [--store sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from rich.console import Console
from rich.progress import track
from sqlalchemy import Engine, insert, text, update

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.domain.allocation import compute_ats_values
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import StockDelta
from stockpool.services import channels, rules
from stockpool.services.allocation_plan import compile_plan
from stockpool.services.ats import recompute_all, refresh_listings, store_values
from stockpool.services.bulk_work import collector_paused
from stockpool.services.context import Services
from stockpool.services.events import publish, recompute_events
from stockpool.services.rules import place_for
from stockpool.store.allocation_tables import (
    allocation_config,
    allocation_rules,
    bundle_components,
    bundles,
    listings,
)
from stockpool.store.channels import add_missing_ats_rows
from stockpool.store.tables import items, locations, stock_levels

console = Console(stderr=True)
LOCATIONS = ("WH1", "WH2", "WH3", "3PL", "STORE")
CHANNELS = ("shop", "amzn", "walm", "ebay", "woo", "tiktok", "pos", "b2b")
TAGS = [f"tag{n}" for n in range(10)]
PG_URL = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
NOW = datetime.now(UTC)


def _chunked(engine: Engine, table: object, rows: list[dict[str, object]], what: str) -> None:
    size = 20_000
    with engine.begin() as conn:
        for start in track(
            range(0, len(rows), size), description=f"seeding {what}", console=console
        ):
            conn.execute(insert(table), rows[start : start + size])  # type: ignore[arg-type]


def seed(engine: Engine, n_items: int, rng: random.Random) -> None:
    """Catalog, stock and listings straight into the tables (setup, not measured)."""
    n_bundles = n_items // 20
    with engine.begin() as conn:
        conn.execute(
            insert(locations),
            [
                {
                    "code": c,
                    "name": c,
                    "kind": "warehouse",
                    "priority": i,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i, c in enumerate(LOCATIONS)
            ],
        )
    singles = n_items - n_bundles
    _chunked(
        engine,
        items,
        [
            {
                "sku": f"SKU{n:06d}",
                "title": f"item {n}",
                "tags": [rng.choice(TAGS)],
                "created_at": NOW,
                "updated_at": NOW,
            }
            for n in range(singles)
        ],
        "items",
    )
    _chunked(
        engine,
        stock_levels,
        [
            {"item_id": n + 1, "location_id": loc + 1, "on_hand": q, "available": q}
            for n in range(singles)
            for loc in range(len(LOCATIONS))
            if (q := max(0, int(rng.gauss(20, 25))))
        ],
        "stock",
    )
    with engine.begin() as conn:
        conn.execute(
            insert(bundles),
            [
                {"sku": f"KIT{n:06d}", "title": f"kit {n}", "created_at": NOW, "updated_at": NOW}
                for n in range(n_bundles)
            ],
        )
        conn.execute(
            insert(bundle_components),
            [
                {"bundle_id": n + 1, "component_sku": f"SKU{c:06d}", "quantity": rng.randint(1, 3)}
                for n in range(n_bundles)
                for c in rng.sample(range(singles), 2)
            ],
        )


def configure(app: Services, engine: Engine, n_items: int, rng: random.Random) -> None:
    for i, code in enumerate(CHANNELS):
        eligible = rng.sample(LOCATIONS, rng.randint(2, 4))
        channels.add_channel(app, code, "other", eligible, priority=1 + i // 2)
    # A few rules through the service while there are no listings yet (quick to apply).
    rules.set_rule(app, place_for(channel=None), {"buffer": 1}, actor="bench")
    rules.set_rule(app, place_for(channel="amzn"), {"buffer": 2, "percent": "90"}, actor="bench")
    rules.set_rule(app, place_for(channel="ebay"), {"maximum": 50, "floor": 2}, actor="bench")
    for tag in TAGS[:3]:
        rules.set_rule(app, place_for(channel="walm", tag=tag), {"percent": "50"}, actor="bench")
    n_bundles = n_items // 20
    rows = []
    for c in range(len(CHANNELS)):
        for n in range(n_items - n_bundles):
            rows.append(
                {
                    "channel_id": c + 1,
                    "listing_id": f"{CHANNELS[c]}-{n}",
                    "channel_sku": f"SKU{n:06d}",
                    "item_id": n + 1,
                    "bundle_id": None,
                    "units": 6 if rng.random() < 0.05 else 1,
                    "created_at": NOW,
                }
            )
        for n in range(n_bundles):
            rows.append(
                {
                    "channel_id": c + 1,
                    "listing_id": f"{CHANNELS[c]}-K{n}",
                    "channel_sku": f"KIT{n:06d}",
                    "item_id": None,
                    "bundle_id": n + 1,
                    "units": 1,
                    "created_at": NOW,
                }
            )
    _chunked(engine, listings, rows, "listings")
    with engine.begin() as conn:
        add_missing_ats_rows(conn)
    # The bulk of the rules go straight into the table (setup, like the rest of the seed).
    singles = n_items - n_bundles
    rows = [
        {
            "scope": f"sku|SKU{n:06d}|shop|",
            "level": "sku",
            "target": f"SKU{n:06d}",
            "channel_id": 1,
            "protect": rng.randint(5, 40),
            "updated_at": NOW,
        }
        for n in rng.sample(range(singles), n_items // 200)
    ]
    rows += [
        {
            "scope": f"listing|woo-{n}|woo|",
            "level": "listing",
            "target": f"woo-{n}",
            "channel_id": 5,
            "protect": None,
            "maximum": 3,
            "updated_at": NOW,
        }
        for n in rng.sample(range(singles), n_items // 400)
    ]
    for row in rows:
        row.setdefault("maximum", None)
    with engine.begin() as conn:
        conn.execute(insert(allocation_rules), rows)
        conn.execute(update(allocation_config).values(version=allocation_config.c.version + 1))


def full_recompute(app: Services) -> dict[str, float]:
    """`recompute_all`, step by step with a clock between the steps."""
    with app.uow() as uow, collector_paused():
        t0 = time.perf_counter()
        compiled = uow.memo[app.plans] = compile_plan(uow, app.clock())
        t1 = time.perf_counter()
        available = uow.ats.available(None)
        t2 = time.perf_counter()
        values = compute_ats_values(compiled.plan, available).values
        t3 = time.perf_counter()
        result = store_values(uow, app, compiled, values)
        publish(uow, app, recompute_events(uow, app, result))  # counts per channel, here
        t4 = time.perf_counter()
        uow.commit()
        t5 = time.perf_counter()
    return {
        "compile_s": t1 - t0,
        "load_s": t2 - t1,
        "compute_s": t3 - t2,
        "store_s": t4 - t3,  # with the events
        "commit_s": t5 - t4,
        "full_s": t5 - t0,
        "listings": len(values),
        "changed": len(result.changed),
    }


def incremental(app: Services, n_items: int, samples: int, rng: random.Random) -> list[float]:
    with app.uow() as uow:  # warm the plan cache
        app.plans.get(uow, app.clock())
    times = []
    singles = n_items - n_items // 20
    for _ in track(range(samples), description="incremental", console=console):
        sku = Sku(f"SKU{rng.randrange(singles):06d}")
        with app.uow() as uow:
            uow.stock.apply(
                sku, LocationCode(rng.choice(LOCATIONS)), StockDelta(on_hand=1), expect_on_hand=None
            )
            start = time.perf_counter()
            refresh_listings(uow, app, uow.stock.touched())
            times.append((time.perf_counter() - start) * 1000)
            uow.commit()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 items, fewer samples.")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--store", default="sqlite", choices=("sqlite", "postgres"))
    args = parser.parse_args()
    n_items = 10_000 if args.quick else args.items
    rng = random.Random(42)
    with tempfile.TemporaryDirectory() as tmp:
        if args.store == "sqlite":
            url = f"sqlite:///{Path(tmp) / 'ats.db'}"
        else:
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute('DROP DATABASE IF EXISTS "stockpool_bench_ats" WITH (FORCE)')
                conn.execute('CREATE DATABASE "stockpool_bench_ats"')
            url = PG_URL.rsplit("/", 1)[0] + "/stockpool_bench_ats"
        settings = Settings(database_url=url, data_dir=Path(tmp))
        engine = initialise(settings)
        seed(engine, n_items, rng)
        app = build_services(settings)
        configure(app, engine, n_items, rng)
        if args.store == "postgres":  # what autovacuum does a minute after a bulk load
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        console.print("full recompute ...")
        full = full_recompute(app)
        start = time.perf_counter()  # nothing changes: compile + load + compute + compare
        unchanged = recompute_all(app)
        again = time.perf_counter() - start
        assert not unchanged.changed, "a second full recompute found changes"
        times = incremental(app, n_items, 200 if args.quick else 2000, rng)
    times.sort()
    result = {
        "benchmark": "ats",
        "store": args.store,
        "cores": os.cpu_count(),
        "items": n_items,
        "locations": len(LOCATIONS),
        "channels": len(CHANNELS),
        "listings": full["listings"],
        **{k: round(v, 3) for k, v in full.items() if k.endswith("_s")},
        "full_unchanged_s": round(again, 3),
        "incremental_median_ms": round(statistics.median(times), 3),
        "incremental_p99_ms": round(times[int(len(times) * 0.99) - 1], 3),
    }
    console.print(result)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
