"""Bad input gets one clear error and changes nothing, on both stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stockpool.domain.errors import (
    AlreadyExists,
    InsufficientStock,
    InvalidInput,
    InvalidTransition,
    NotFound,
    StockpoolError,
)
from stockpool.domain.quantities import UnavailableReason as R
from stockpool.services import catalog, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from tests.dbsnapshot import snapshot

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse")
    catalog.add_location(app, "WH2", "East 3PL", "3pl")
    catalog.add_item(app, "TEE-M", "Tee, medium")
    stock.receive(app, "TEE-M", "WH1", 5, actor=ME)
    stock.reclassify(app, "TEE-M", "WH1", 1, source=None, target=R.DAMAGED, actor=ME)
    return app


def shipped(app: Services) -> int:
    return transfers.ship_transfer(app, "WH1", "WH2", {"TEE-M": 2}, actor=ME).id


CASES: dict[str, tuple[Callable[[Services], object], type[StockpoolError], str]] = {
    "unknown sku": (
        lambda a: stock.receive(a, "NOPE", "WH1", 1, actor=ME),
        NotFound,
        "unknown SKU 'NOPE'",
    ),
    "sku differs in case": (
        lambda a: stock.receive(a, "tee-m", "WH1", 1, actor=ME),
        NotFound,
        "unknown SKU",
    ),
    "unknown location": (
        lambda a: stock.receive(a, "TEE-M", "NOWHERE", 1, actor=ME),
        NotFound,
        "unknown location 'NOWHERE'",
    ),
    "zero receipt": (
        lambda a: stock.receive(a, "TEE-M", "WH1", 0, actor=ME),
        InvalidInput,
        "at least 1",
    ),
    "negative receipt": (
        lambda a: stock.receive(a, "TEE-M", "WH1", -3, actor=ME),
        InvalidInput,
        "at least 1",
    ),
    "fractional receipt": (
        lambda a: stock.receive(a, "TEE-M", "WH1", 1.5, actor=ME),  # type: ignore[arg-type]
        InvalidInput,
        "whole number",
    ),
    "zero adjustment": (
        lambda a: stock.adjust(a, "TEE-M", "WH1", 0, reason="x", actor=ME),
        InvalidInput,
        "must not be 0",
    ),
    "adjustment without reason": (
        lambda a: stock.adjust(a, "TEE-M", "WH1", 1, reason=" ", actor=ME),
        InvalidInput,
        "needs a reason",
    ),
    "loss beyond available": (
        lambda a: stock.adjust(a, "TEE-M", "WH1", -5, reason="x", actor=ME),
        InsufficientStock,
        "has 4 available; 5 needed",
    ),
    "negative count": (
        lambda a: stock.count(a, "TEE-M", "WH1", -1, actor=ME),
        InvalidInput,
        "zero or more",
    ),
    "damage more than available": (
        lambda a: stock.reclassify(a, "TEE-M", "WH1", 5, source=None, target=R.DAMAGED, actor=ME),
        InsufficientStock,
        "has 4 available; 5 needed",
    ),
    "release more than damaged": (
        lambda a: stock.reclassify(a, "TEE-M", "WH1", 2, source=R.DAMAGED, target=None, actor=ME),
        InsufficientStock,
        "has 1 damaged; 2 needed",
    ),
    "release from where nothing is held": (
        lambda a: stock.reclassify(a, "TEE-M", "WH2", 1, source=R.HOLD, target=None, actor=ME),
        InsufficientStock,
        "has 0 hold",
    ),
    "transfer more than available": (
        lambda a: transfers.ship_transfer(a, "WH1", "WH2", {"TEE-M": 5}, actor=ME),
        InsufficientStock,
        "has 4 available; 5 needed",
    ),
    "transfer to itself": (
        lambda a: transfers.ship_transfer(a, "WH1", "WH1", {"TEE-M": 1}, actor=ME),
        InvalidInput,
        "two different locations",
    ),
    "transfer to unknown location": (
        lambda a: transfers.ship_transfer(a, "WH1", "MOON", {"TEE-M": 1}, actor=ME),
        NotFound,
        "unknown location 'MOON'",
    ),
    "receive unknown transfer": (
        lambda a: transfers.receive_transfer(a, 999, actor=ME),
        NotFound,
        "unknown transfer 999",
    ),
    "duplicate sku": (
        lambda a: catalog.add_item(a, "TEE-M", "again"),
        AlreadyExists,
        "exists already",
    ),
    "sku too long": (lambda a: catalog.add_item(a, "X" * 101, "long"), InvalidInput, "at most 100"),
    "sku with spaces around": (
        lambda a: catalog.add_item(a, " TEE ", "spaces"),
        InvalidInput,
        "surrounding spaces",
    ),
    "duplicate location": (
        lambda a: catalog.add_location(a, "WH1", "again", "warehouse"),
        AlreadyExists,
        "exists already",
    ),
    "unknown location kind": (
        lambda a: catalog.add_location(a, "WH9", "x", "garage"),
        InvalidInput,
        "one of warehouse, 3pl, store, channel_held",
    ),
    "negative cost": (
        lambda a: catalog.add_item(a, "NEW", "x", unit_cost="-1"),
        InvalidInput,
        "zero or more",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_and_changes_nothing(shop: Services, case: str) -> None:
    call, error, message = CASES[case]
    before = snapshot(shop)
    with pytest.raises(error, match=message):
        call(shop)
    assert snapshot(shop) == before


def test_over_receipt_of_a_transfer_is_refused_and_changes_nothing(shop: Services) -> None:
    transfer_id = shipped(shop)
    before = snapshot(shop)
    with pytest.raises(InvalidInput, match="has 2 of TEE-M in transit; cannot receive 3"):
        transfers.receive_transfer(shop, transfer_id, {"TEE-M": 3}, actor=ME)
    assert snapshot(shop) == before


def test_closed_transfer_cannot_be_received_again(shop: Services) -> None:
    transfer_id = shipped(shop)
    transfers.receive_transfer(shop, transfer_id, actor=ME)
    before = snapshot(shop)
    with pytest.raises(InvalidTransition, match="is received"):
        transfers.receive_transfer(shop, transfer_id, actor=ME)
    with pytest.raises(InvalidTransition, match="is received"):
        transfers.cancel_transfer(shop, transfer_id, actor=ME)
    assert snapshot(shop) == before


def test_multi_line_transfer_with_one_bad_line_changes_nothing(shop: Services) -> None:
    catalog.add_item(shop, "CAP", "Cap")
    stock.receive(shop, "CAP", "WH1", 1, actor=ME)
    before = snapshot(shop)
    with pytest.raises(InsufficientStock):
        transfers.ship_transfer(shop, "WH1", "WH2", {"CAP": 1, "TEE-M": 9}, actor=ME)
    assert snapshot(shop) == before
