"""Suppliers and purchase orders on both stores: every status transition, receipts, costs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stockpool.domain.errors import InvalidInput, InvalidTransition, NotFound, StockpoolError
from stockpool.domain.purchasing import PoStatus
from stockpool.services import catalog, purchasing, stock
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from tests.conftest import FakeClock
from tests.dbsnapshot import snapshot

ME = Actor("buyer")
DAY = datetime(2026, 3, 20, tzinfo=UTC)


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse")
    catalog.add_location(app, "WH2", "East 3PL", "3pl")
    catalog.add_item(app, "TEE", "Tee", unit_cost="2.00")
    catalog.add_item(app, "CAP", "Cap")
    stock.receive(app, "TEE", "WH1", 10, actor=ME)
    purchasing.add_supplier(app, "ACME", "Acme Ltd", currency="eur", lead_time_days=21)
    purchasing.set_supplier_item(app, "ACME", "TEE", unit_cost="3.00", moq=12, case_pack=6)
    return app


def levels(app: Services, sku: str) -> dict[str, tuple[int, int, int]]:
    """(on_hand, available, incoming) per location."""
    return {loc: (s.on_hand, s.available, s.incoming) for loc, s in stock.stock_of(app, sku)}


def draft(app: Services, **lines: int) -> int:
    costs = {"CAP": "1.50"} if "CAP" in lines else {}
    return purchasing.create_po(app, "ACME", "WH1", lines, actor=ME, costs=costs).po.id


def test_a_draft_changes_no_stock_and_warns_about_moq_and_case_pack(shop: Services) -> None:
    drafted = purchasing.create_po(shop, "ACME", "WH1", {"TEE": 10}, actor=ME)
    assert drafted.po.status is PoStatus.DRAFT
    assert drafted.po.lines[0].unit_cost == Decimal("3.0000")
    assert drafted.warnings == [
        "TEE: 10 is below the MOQ of 12",
        "TEE: 10 is not a multiple of case pack 6",
    ]
    assert levels(shop, "TEE") == {"WH1": (10, 10, 0)}


def test_opening_makes_the_units_incoming_with_the_lead_time_as_expected_date(
    shop: Services, clock: FakeClock
) -> None:
    po = purchasing.open_po(shop, draft(shop, TEE=12), actor=ME)
    assert po.status is PoStatus.OPEN
    assert po.opened_at == clock.now
    assert po.expected_at == datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # 21 days
    assert levels(shop, "TEE") == {"WH1": (10, 10, 12)}
    assert verify(shop).clean


def test_the_expected_date_can_be_given_and_edited(shop: Services) -> None:
    po_id = draft(shop, TEE=12)
    assert purchasing.open_po(shop, po_id, actor=ME, expected_at=DAY).expected_at == DAY
    later = datetime(2026, 4, 1, tzinfo=UTC)
    assert purchasing.set_expected(shop, po_id, later).expected_at == later


def test_partial_then_full_receipt_moves_incoming_to_the_shelf(
    shop: Services, clock: FakeClock
) -> None:
    po_id = draft(shop, TEE=12, CAP=4)
    purchasing.open_po(shop, po_id, actor=ME)
    clock.advance(days=10)
    po = purchasing.receive_po(shop, po_id, {"TEE": 5}, actor=ME)
    assert po.status is PoStatus.PARTIALLY_RECEIVED
    assert [(li.sku, li.received, li.outstanding) for li in po.lines] == [
        ("CAP", 0, 4),
        ("TEE", 5, 7),
    ]
    assert levels(shop, "TEE") == {"WH1": (15, 15, 7)}
    clock.advance(days=2)
    po = purchasing.receive_po(shop, po_id, actor=ME)
    assert po.status is PoStatus.RECEIVED
    assert po.closed_at == clock.now
    assert levels(shop, "TEE") == {"WH1": (22, 22, 0)}
    assert levels(shop, "CAP") == {"WH1": (4, 4, 0)}
    assert purchasing.lead_times(shop, "ACME", "TEE") == [Decimal("10.000"), Decimal("12.000")]
    assert [m.kind.value for m in stock.movements_of(shop, "TEE")] == ["receipt"] * 3
    assert verify(shop).clean


def test_over_receipt_keeps_every_unit_but_releases_only_what_was_incoming(
    shop: Services,
) -> None:
    po_id = draft(shop, TEE=12)
    purchasing.open_po(shop, po_id, actor=ME)
    po = purchasing.receive_po(shop, po_id, {"TEE": 15}, actor=ME)
    assert po.status is PoStatus.RECEIVED
    assert (po.lines[0].received, po.lines[0].outstanding) == (15, 0)
    assert levels(shop, "TEE") == {"WH1": (25, 25, 0)}
    assert verify(shop).clean


def test_under_receipt_then_close_releases_the_rest(shop: Services) -> None:
    po_id = draft(shop, TEE=12)
    purchasing.open_po(shop, po_id, actor=ME)
    purchasing.receive_po(shop, po_id, {"TEE": 8}, actor=ME)
    po = purchasing.close_po(shop, po_id, actor=ME)
    assert po.status is PoStatus.CLOSED
    assert levels(shop, "TEE") == {"WH1": (18, 18, 0)}
    assert verify(shop).clean


def test_cancel_after_partial_receipt_keeps_received_units_and_drops_incoming(
    shop: Services,
) -> None:
    po_id = draft(shop, TEE=12, CAP=4)
    purchasing.open_po(shop, po_id, actor=ME)
    purchasing.receive_po(shop, po_id, {"TEE": 6}, actor=ME)
    po = purchasing.cancel_po(shop, po_id, actor=ME)
    assert po.status is PoStatus.CANCELLED
    assert levels(shop, "TEE") == {"WH1": (16, 16, 0)}
    assert levels(shop, "CAP") == {"WH1": (0, 0, 0)}
    assert verify(shop).clean


def test_cancelling_a_draft_or_an_open_order_leaves_no_incoming(shop: Services) -> None:
    assert purchasing.cancel_po(shop, draft(shop, TEE=12), actor=ME).status is PoStatus.CANCELLED
    po_id = draft(shop, TEE=12)
    purchasing.open_po(shop, po_id, actor=ME)
    assert purchasing.cancel_po(shop, po_id, actor=ME).status is PoStatus.CANCELLED
    assert levels(shop, "TEE") == {"WH1": (10, 10, 0)}
    assert verify(shop).clean


def test_receipts_update_the_moving_average_cost_over_all_locations(shop: Services) -> None:
    stock.receive(shop, "TEE", "WH2", 10, actor=ME)  # 20 on hand at 2.00
    po_id = draft(shop, TEE=12)
    purchasing.open_po(shop, po_id, actor=ME)
    purchasing.receive_po(shop, po_id, {"TEE": 10}, actor=ME)  # 10 at 3.00
    assert catalog.get_item(shop, "TEE").unit_cost == Decimal("2.3333")
    purchasing.receive_po(shop, po_id, {"TEE": 2}, actor=ME, costs={"TEE": "4.10"})
    # (2.3333 * 30 + 4.10 * 2) / 32
    assert catalog.get_item(shop, "TEE").unit_cost == Decimal("2.4437")


def test_an_item_without_cost_takes_the_landed_cost(shop: Services) -> None:
    po_id = draft(shop, CAP=4)
    purchasing.open_po(shop, po_id, actor=ME)
    purchasing.receive_po(shop, po_id, actor=ME)
    assert catalog.get_item(shop, "CAP").unit_cost == Decimal("1.5000")


def _draft(app: Services) -> int:
    return draft(app, TEE=12)


def _open(app: Services) -> int:
    po_id = draft(app, TEE=12)
    purchasing.open_po(app, po_id, actor=ME)
    return po_id


def _received(app: Services) -> int:
    po_id = _open(app)
    purchasing.receive_po(app, po_id, actor=ME)
    return po_id


Setup = Callable[[Services], int]
Step = Callable[[Services, int], object]
REFUSED: dict[str, tuple[Setup, Step, type[StockpoolError]]] = {
    "receive a draft": (
        _draft,
        lambda a, i: purchasing.receive_po(a, i, actor=ME),
        InvalidTransition,
    ),
    "open twice": (_open, lambda a, i: purchasing.open_po(a, i, actor=ME), InvalidTransition),
    "close a draft": (_draft, lambda a, i: purchasing.close_po(a, i, actor=ME), InvalidTransition),
    "cancel a received order": (
        _received,
        lambda a, i: purchasing.cancel_po(a, i, actor=ME),
        InvalidTransition,
    ),
    "close a received order": (
        _received,
        lambda a, i: purchasing.close_po(a, i, actor=ME),
        InvalidTransition,
    ),
    "receive a received order": (
        _received,
        lambda a, i: purchasing.receive_po(a, i, {"TEE": 1}, actor=ME),
        InvalidTransition,
    ),
    "date of a received order": (
        _received,
        lambda a, i: purchasing.set_expected(a, i, DAY),
        InvalidTransition,
    ),
    "receive an item not ordered": (
        _open,
        lambda a, i: purchasing.receive_po(a, i, {"CAP": 1}, actor=ME),
        InvalidInput,
    ),
    "receive zero": (
        _open,
        lambda a, i: purchasing.receive_po(a, i, {"TEE": 0}, actor=ME),
        InvalidInput,
    ),
    "negative landed cost": (
        _open,
        lambda a, i: purchasing.receive_po(a, i, {"TEE": 1}, actor=ME, costs={"TEE": "-1"}),
        InvalidInput,
    ),
    "unknown order": (_open, lambda a, i: purchasing.receive_po(a, i + 1, actor=ME), NotFound),
    "unknown supplier": (
        _draft,
        lambda a, i: purchasing.create_po(a, "NOPE", "WH1", {"TEE": 1}, actor=ME),
        NotFound,
    ),
    "no cost and no terms": (
        _draft,
        lambda a, i: purchasing.create_po(a, "ACME", "WH1", {"CAP": 1}, actor=ME),
        InvalidInput,
    ),
    "bad currency": (
        _draft,
        lambda a, i: purchasing.add_supplier(a, "X", "X", currency="EURO"),
        InvalidInput,
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_purchasing_step_changes_nothing(shop: Services, case: str) -> None:
    setup, step, error = REFUSED[case]
    po_id = setup(shop)
    before = snapshot(shop)
    with pytest.raises(error):
        step(shop, po_id)
    assert snapshot(shop) == before
