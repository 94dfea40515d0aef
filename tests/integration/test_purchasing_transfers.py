"""Transfer documents with several lines: in transit, the units show at both ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stockpool.domain.transfers import TransferStatus
from stockpool.services import catalog, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

ME = Actor("mover")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse")
    catalog.add_location(app, "WH2", "East 3PL", "3pl")
    for sku in ("TEE", "CAP"):
        catalog.add_item(app, sku, sku.title())
        stock.receive(app, sku, "WH1", 10, actor=ME)
    return app


def levels(app: Services, sku: str) -> dict[str, tuple[int, int, int]]:
    return {loc: (s.on_hand, s.available, s.incoming) for loc, s in stock.stock_of(app, sku)}


def test_in_transit_stock_is_gone_from_the_source_and_incoming_at_the_destination(
    shop: Services,
) -> None:
    expected = datetime(2026, 3, 9, tzinfo=UTC)
    t = transfers.ship_transfer(
        shop, "WH1", "WH2", {"TEE": 4, "CAP": 3}, actor=ME, expected_at=expected
    )
    assert (t.status, t.expected_at) == (TransferStatus.IN_TRANSIT, expected)
    assert [(li.sku, li.in_transit) for li in t.lines] == [("CAP", 3), ("TEE", 4)]
    assert levels(shop, "TEE") == {"WH1": (6, 6, 0), "WH2": (0, 0, 4)}
    assert levels(shop, "CAP") == {"WH1": (7, 7, 0), "WH2": (0, 0, 3)}
    t = transfers.receive_transfer(shop, t.id, {"TEE": 4}, actor=ME)
    assert t.status is TransferStatus.PARTIALLY_RECEIVED
    assert levels(shop, "TEE") == {"WH1": (6, 6, 0), "WH2": (4, 4, 0)}
    t = transfers.cancel_transfer(shop, t.id, actor=ME)
    assert t.status is TransferStatus.RECEIVED
    assert levels(shop, "CAP") == {"WH1": (10, 10, 0), "WH2": (0, 0, 0)}
    assert verify(shop).clean
