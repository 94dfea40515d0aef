"""No lost update and no overdraw when many threads work on the same level at once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stockpool.domain.errors import InsufficientStock
from stockpool.services import catalog, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

ME = Actor("thread")
THREADS = 16


def _setup(app: Services, units: int) -> None:
    catalog.add_location(app, "WH1", "Main", "warehouse")
    catalog.add_location(app, "WH2", "Other", "warehouse")
    catalog.add_item(app, "HOT", "Hot seller")
    if units:
        stock.receive(app, "HOT", "WH1", units, actor=ME)


def _available(app: Services, location: str) -> int:
    return {loc: s for loc, s in stock.stock_of(app, "HOT")}[location].available  # type: ignore[index]


def test_concurrent_receipts_lose_no_update(app: Services) -> None:
    _setup(app, 0)
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda _: stock.receive(app, "HOT", "WH1", 1, actor=ME), range(400)))
    assert _available(app, "WH1") == 400
    assert len(stock.movements_of(app, "HOT", limit=1000)) == 400
    assert verify(app).clean


def _take_one(app: Services, n: int) -> bool:
    try:
        if n % 3 == 0:
            transfers.ship_transfer(app, "WH1", "WH2", {"HOT": 1}, actor=ME)
        else:
            stock.adjust(app, "HOT", "WH1", -1, reason="shrink", actor=ME)
    except InsufficientStock:
        return False
    return True


def test_concurrent_takers_never_jointly_overdraw(app: Services) -> None:
    _setup(app, 100)
    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(lambda n: _take_one(app, n), range(300)))
    assert sum(results) == 100
    assert _available(app, "WH1") == 0
    assert verify(app).clean


def test_concurrent_counts_and_receipts_stay_consistent(app: Services) -> None:
    _setup(app, 50)

    def work(n: int) -> None:
        if n % 5 == 0:
            stock.count(app, "HOT", "WH1", 50, actor=ME)
        else:
            stock.receive(app, "HOT", "WH1", 1, actor=ME)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(work, range(100)))
    receipts_after_last_count = 0
    for m in stock.movements_of(app, "HOT", limit=1000):
        if m.kind.value == "count":
            break
        receipts_after_last_count += m.quantity
    assert _available(app, "WH1") == 50 + receipts_after_last_count
    assert verify(app).clean
