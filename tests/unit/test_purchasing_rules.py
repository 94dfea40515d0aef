"""Purchasing rules without a database: receipts, statuses, average cost, warnings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from stockpool.domain.errors import InvalidInput, InvalidTransition
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.purchasing import (
    PoLine,
    PoStatus,
    PurchaseOrder,
    ReceiptLine,
    SupplierCode,
    SupplierItem,
    lead_time_days,
    moving_average_cost,
    order_warnings,
    plan_po_receipt,
    require_currency,
    status_after_receipt,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def order(status: PoStatus = PoStatus.OPEN, received: int = 0) -> PurchaseOrder:
    lines = (
        PoLine(Sku("A"), 10, Decimal("2.00"), received),
        PoLine(Sku("B"), 4, Decimal("1.00")),
    )
    return PurchaseOrder(1, SupplierCode("S"), LocationCode("WH1"), status, lines, "", T0)


def test_an_empty_receipt_takes_everything_outstanding() -> None:
    assert plan_po_receipt(order(received=3), {}, {}) == [
        ReceiptLine(Sku("A"), 7, 7, Decimal("2.00")),
        ReceiptLine(Sku("B"), 4, 4, Decimal("1.00")),
    ]


def test_an_over_receipt_releases_only_the_outstanding_units() -> None:
    plan = plan_po_receipt(order(received=8), {Sku("A"): 5}, {Sku("A"): Decimal("2.40")})
    assert plan == [ReceiptLine(Sku("A"), 5, 2, Decimal("2.40"))]


@pytest.mark.parametrize("status", [PoStatus.DRAFT, PoStatus.RECEIVED, PoStatus.CLOSED])
def test_only_open_orders_can_be_received(status: PoStatus) -> None:
    with pytest.raises(InvalidTransition, match=f"is {status.value}"):
        plan_po_receipt(order(status), {}, {})


def test_an_item_not_on_the_order_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no line for C"):
        plan_po_receipt(order(), {Sku("C"): 1}, {})


def test_the_order_is_received_once_every_line_is_complete() -> None:
    assert status_after_receipt(order(received=10).lines) is PoStatus.PARTIALLY_RECEIVED
    lines = (PoLine(Sku("A"), 1, Decimal(1), 2), PoLine(Sku("B"), 1, Decimal(1), 1))
    assert status_after_receipt(lines) is PoStatus.RECEIVED


def test_the_average_cost_is_weighted_by_units() -> None:
    assert moving_average_cost(Decimal("2"), 10, 5, Decimal("5")) == Decimal("3.0000")
    assert moving_average_cost(None, 10, 5, Decimal("5.12345")) == Decimal("5.1234")
    assert moving_average_cost(Decimal("9"), 0, 5, Decimal("5")) == Decimal("5.0000")


def test_moq_and_case_pack_are_warned_about() -> None:
    terms = SupplierItem(SupplierCode("S"), Sku("A"), Decimal(1), moq=24, case_pack=12)
    assert order_warnings(terms, 24) == []
    assert order_warnings(terms, 18) == [
        "A: 18 is below the MOQ of 24",
        "A: 18 is not a multiple of case pack 12",
    ]
    assert order_warnings(None, 1) == []


def test_lead_times_are_in_days_to_the_thousandth() -> None:
    assert lead_time_days(T0, datetime(2026, 3, 11, 6, tzinfo=UTC)) == Decimal("10.250")


def test_currencies_are_three_letters() -> None:
    assert require_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput):
        require_currency("E1R")
