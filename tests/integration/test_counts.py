"""Count reconciliation on both stores: as-of variances, thresholds, approvals, flags."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockpool.domain.counts import CountLineStatus, Threshold
from stockpool.domain.csv_formats import BadFile, BadRows
from stockpool.domain.errors import InvalidTransition, StockpoolError
from stockpool.domain.ids import LocationCode, Sku
from stockpool.services import catalog, counts, purchasing, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from tests.conftest import FakeClock
from tests.dbsnapshot import snapshot

ME = Actor("counter")
LOOSE = Threshold(units=None, value=None)


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse")
    catalog.add_location(app, "WH2", "East 3PL", "3pl")
    catalog.add_item(app, "TEE", "Tee", unit_cost="2.50")
    catalog.add_item(app, "CAP", "Cap")
    stock.receive(app, "TEE", "WH1", 10, actor=ME)
    stock.receive(app, "CAP", "WH1", 5, actor=ME)
    return app


def on_hand(app: Services, sku: str, location: str = "WH1") -> int:
    return dict(stock.stock_of(app, sku))[location].on_hand  # type: ignore[index]


def test_a_past_count_keeps_later_movements_on_top(shop: Services, clock: FakeClock) -> None:
    clock.advance(hours=1)
    counted_at = clock.now  # 10:00, when TEE stood at 10
    clock.advance(hours=1)
    stock.receive(shop, "TEE", "WH1", 5, actor=ME)
    stock.adjust(shop, "TEE", "WH1", -1, reason="broken", actor=ME)
    clock.advance(hours=1)
    data = f"sku,location,counted,counted_at\nTEE,WH1,8,{counted_at.isoformat()}\n".encode()
    count = counts.import_count(shop, data, name="3pl.csv", actor=ME, threshold=LOOSE)
    (line,) = count.lines
    assert (line.expected, line.counted, line.variance) == (10, 8, -2)
    assert line.value == Decimal("-5.0000")
    assert line.status is CountLineStatus.POSTED
    assert on_hand(shop, "TEE") == 12  # 10 - 2 counted + 5 - 1 since
    assert stock.movements_of(shop, "TEE", limit=1)[0].quantity == -2
    assert verify(shop).clean


def test_a_count_without_time_compares_with_on_hand_now(shop: Services) -> None:
    data = b"sku,location,counted\nTEE,WH1,10\nCAP,WH1,7\n"
    count = counts.import_count(shop, data, name="c.csv", actor=ME, threshold=LOOSE)
    assert [(li.sku, li.variance, li.status) for li in count.lines] == [
        ("CAP", 2, CountLineStatus.POSTED),
        ("TEE", 0, CountLineStatus.MATCHED),
    ]
    assert on_hand(shop, "CAP") == 7


def test_variances_above_the_threshold_wait_for_approval(shop: Services) -> None:
    data = b"sku,location,counted\nTEE,WH1,4\nCAP,WH1,7\n"
    threshold = Threshold(units=3, value=Decimal("100"))
    count = counts.import_count(shop, data, name="c.csv", actor=ME, threshold=threshold)
    assert [(li.sku, li.variance, li.status) for li in count.lines] == [
        ("CAP", 2, CountLineStatus.POSTED),
        ("TEE", -6, CountLineStatus.PENDING),
    ]
    assert (on_hand(shop, "TEE"), on_hand(shop, "CAP")) == (10, 7)
    count = counts.approve_count(shop, count.id, actor=ME)
    assert count.lines[1].status is CountLineStatus.POSTED
    assert on_hand(shop, "TEE") == 4
    assert verify(shop).clean


def test_a_value_threshold_holds_back_an_expensive_variance(shop: Services) -> None:
    threshold = Threshold(units=None, value=Decimal("10"))
    data = b"sku,location,counted\nTEE,WH1,5\n"  # -5 x 2.50 = -12.50
    count = counts.import_count(shop, data, name="c.csv", actor=ME, threshold=threshold)
    assert count.lines[0].status is CountLineStatus.PENDING
    count = counts.reject_count(shop, count.id, actor=ME)
    assert count.lines[0].status is CountLineStatus.REJECTED
    assert on_hand(shop, "TEE") == 10


def test_a_decided_line_cannot_be_decided_again(shop: Services) -> None:
    threshold = Threshold(units=1)
    data = b"sku,location,counted\nTEE,WH1,5\n"
    count = counts.import_count(shop, data, name="c.csv", actor=ME, threshold=threshold)
    counts.approve_count(shop, count.id, actor=ME)
    before = snapshot(shop)
    with pytest.raises(InvalidTransition):
        counts.approve_count(shop, count.id, [(Sku("TEE"), LocationCode("WH1"))], actor=ME)
    assert snapshot(shop) == before


def test_open_transfers_and_purchase_orders_are_flagged_next_to_the_variance(
    shop: Services,
) -> None:
    transfers.ship_transfer(shop, "WH1", "WH2", {"TEE": 2}, actor=ME)
    purchasing.add_supplier(shop, "ACME", "Acme")
    po = purchasing.create_po(shop, "ACME", "WH1", {"TEE": 5}, actor=ME, costs={"TEE": "2"}).po
    purchasing.open_po(shop, po.id, actor=ME)
    data = b"sku,location,counted\nTEE,WH1,8\nCAP,WH1,5\n"
    count = counts.import_count(shop, data, name="c.csv", actor=ME, threshold=LOOSE)
    assert [(li.sku, li.flags) for li in count.lines] == [
        ("CAP", ()),
        ("TEE", ("transfer 1 (in_transit)", f"PO {po.id} (open)")),
    ]


BAD_FILES: dict[str, tuple[bytes, type[StockpoolError], str]] = {
    "missing column": (b"sku,location\nTEE,WH1\n", BadFile, "missing column(s) counted"),
    "bad number": (b"sku,location,counted\nTEE,WH1,1.5\n", BadRows, "row 2, column counted"),
    "negative": (b"sku,location,counted\nTEE,WH1,-1\n", BadRows, "row 2, column counted"),
    "unknown sku": (b"sku,location,counted\nNOPE,WH1,1\n", BadRows, "unknown SKU 'NOPE'"),
    "unknown location": (b"sku,location,counted\nTEE,XX,1\n", BadRows, "unknown location 'XX'"),
    "duplicate row": (
        b"sku,location,counted\nTEE,WH1,1\nTEE,WH1,2\n",
        BadRows,
        "row 3, column -: duplicate of row 2",
    ),
    "future time": (
        b"sku,location,counted,counted_at\nTEE,WH1,1,2030-01-01\n",
        BadRows,
        "is in the future",
    ),
    "wrong encoding": ("sku,location,counted\nTÉE,WH1,1\n".encode("latin-1"), BadFile, "UTF-8"),
    "empty file": (b"", BadFile, "is empty"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_count_file_changes_nothing(shop: Services, case: str) -> None:
    data, error, message = BAD_FILES[case]
    before = snapshot(shop)
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        counts.import_count(shop, data, name="c.csv", actor=ME)
    assert snapshot(shop) == before


def test_skipping_bad_rows_reconciles_the_good_ones(shop: Services) -> None:
    data = b"sku,location,counted\nNOPE,WH1,1\nCAP,WH1,6\n"
    count = counts.import_count(
        shop, data, name="c.csv", actor=ME, threshold=LOOSE, skip_bad_rows=True
    )
    assert [(li.sku, li.variance) for li in count.lines] == [("CAP", 1)]
