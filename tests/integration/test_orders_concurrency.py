"""No oversell under concurrency: 64 workers, 10,000 single-unit orders, 100 units.

Each scenario runs on SQLite and on PostgreSQL, across several channels, with commitments
piling up while the orders race: exactly the available units are accepted, never one more.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from stockpool.bootstrap import Settings, build_services
from stockpool.domain.orders import OrderRefused
from stockpool.services import catalog, channels, orders, rules, stock
from stockpool.services.context import Services
from stockpool.services.group_commit import GroupCommit
from stockpool.services.orders import line_requests
from stockpool.services.rules import place_for
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from stockpool.store.engine import parse_database_url
from stockpool.store.uow import SqlUnitOfWorkFactory
from tests.conftest import FakeClock

pytestmark = pytest.mark.slow

ME = Actor("racer")
WORKERS = 64
ORDERS = 10_000
CHANNELS = ("web", "amzn", "ebay", "pos")
SIDE_BY_SIDE = 3  # PostgreSQL batches at once (row locks decide who waits)


@pytest.fixture
def racing(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Services]:
    """Services whose connection pool lets every worker in (PostgreSQL: a bounded pool)."""
    if database_url.startswith("postgresql"):
        engine = create_engine(
            parse_database_url(database_url), pool_size=24, max_overflow=0, pool_timeout=300
        )
        factory = SqlUnitOfWorkFactory(engine)
        services = Services(  # batches side by side, as several server processes run them
            uow=factory,
            clock=clock,
            reservations=GroupCommit(lanes=SIDE_BY_SIDE),
            audit_log=GroupCommit(lanes=SIDE_BY_SIDE),
        )
    else:
        built = build_services(Settings(database_url=database_url, data_dir=tmp_path))
        services = replace(built, clock=clock)  # its group commit waits for the writer turn
    yield services
    services.uow.engine.dispose()  # type: ignore[attr-defined]


def _catalog(app: Services, *, bundle: bool) -> None:
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    catalog.add_location(app, "WH2", "Second", "3pl", priority=2)
    catalog.add_item(app, "HOT", "Hot seller")
    stock.receive(app, "HOT", "WH1", 60, actor=ME)
    stock.receive(app, "HOT", "WH2", 40, actor=ME)
    if bundle:
        catalog.add_item(app, "LID", "Lid")
        stock.receive(app, "LID", "WH2", 100, actor=ME)
        channels.save_bundle(app, "SET", [("HOT", 1), ("LID", 1)])
    for code in CHANNELS:
        channels.add_channel(app, code, "other", ["WH1", "WH2"], priority=CHANNELS.index(code))
        channels.add_listing(app, code, f"{code}-HOT", "HOT")
        if bundle:
            channels.add_listing(app, code, f"{code}-SET", "SET")
            channels.add_listing(app, code, f"{code}-LID", "LID")


def _race(app: Services, listings: list[str]) -> Counter[str]:
    """Send ORDERS single-unit orders over `listings` (channel-listing) from WORKERS."""
    rng = random.Random(11)
    plan = [rng.choice(listings) for _ in range(ORDERS)]

    def one(n: int) -> str | None:
        channel = plan[n].split("-", 1)[0]
        try:
            orders.reserve(app, channel, f"r-{n}", line_requests([(plan[n], 1)]), actor=ME)
        except OrderRefused:
            return None
        return plan[n]

    with ThreadPoolExecutor(WORKERS) as pool:
        accepted = [found for found in pool.map(one, range(ORDERS)) if found]
    return Counter(accepted)


def _level(app: Services, sku: str) -> tuple[int, int]:
    states = [s for _, s in stock.stock_of(app, sku)]
    return sum(s.committed for s in states), sum(s.available for s in states)


def _all_ats(app: Services) -> set[int]:
    return {x.ats for x in channels.list_listings(app)}


def test_concurrent_orders_across_channels_accept_exactly_the_stock(racing: Services) -> None:
    _catalog(racing, bundle=False)
    accepted = _race(racing, [f"{c}-HOT" for c in CHANNELS])
    assert sum(accepted.values()) == 100
    assert _level(racing, "HOT") == (100, 0)
    assert _all_ats(racing) == {0}
    assert len(orders.list_orders(racing, limit=1000)) == 100
    assert verify(racing).clean


def test_a_bundle_and_its_components_sold_alone_never_oversell(racing: Services) -> None:
    _catalog(racing, bundle=True)
    accepted = _race(racing, [f"{c}-{x}" for c in CHANNELS for x in ("HOT", "SET", "LID")])
    sets = sum(n for key, n in accepted.items() if key.endswith("-SET"))
    hot = sum(n for key, n in accepted.items() if key.endswith("-HOT"))
    lids = sum(n for key, n in accepted.items() if key.endswith("-LID"))
    assert (hot + sets, lids + sets) == (100, 100)
    assert _level(racing, "HOT") == (100, 0)
    assert _level(racing, "LID") == (100, 0)
    assert _all_ats(racing) == {0}
    assert verify(racing).clean


def test_protected_channels_get_at_least_their_protection(racing: Services) -> None:
    _catalog(racing, bundle=False)
    rules.set_rule(racing, place_for(channel="ebay", sku="HOT"), {"protect": 20}, actor="t")
    rules.set_rule(racing, place_for(channel="pos", sku="HOT"), {"protect": 15}, actor="t")
    accepted = _race(racing, [f"{c}-HOT" for c in CHANNELS])
    by_channel = {c: accepted[f"{c}-HOT"] for c in CHANNELS}
    assert sum(by_channel.values()) == 100
    assert by_channel["ebay"] >= 20
    assert by_channel["pos"] >= 15
    assert by_channel["web"] + by_channel["amzn"] <= 65
    assert _level(racing, "HOT") == (100, 0)
    assert _all_ats(racing) == {0}
    assert verify(racing).clean
