"""The ledger's operations, run against SQLite and PostgreSQL alike (one contract suite)."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from stockpool.domain.errors import InsufficientStock
from stockpool.domain.ledger import MovementKind
from stockpool.domain.quantities import UnavailableReason as R
from stockpool.domain.transfers import TransferStatus
from stockpool.services import catalog, stock, transfers
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from stockpool.store.tables import stock_levels
from tests.dbsnapshot import engine_of

ME = Actor("tester")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse", priority=1)
    catalog.add_location(app, "WH2", "East 3PL", "3pl", priority=2)
    catalog.add_item(app, "TEE-M", "Tee, medium", unit_cost="4.20", tags=["tees"])
    return app


def level(app: Services, sku: str, location: str) -> dict[str, int]:
    for code, s in stock.stock_of(app, sku):
        if code == location:
            return {
                "on_hand": s.on_hand,
                "committed": s.committed,
                "available": s.available,
                "incoming": s.incoming,
                **{r.value: s.unavailable[r] for r in R},
            }
    return {}


def test_receipt_puts_units_on_hand_and_available(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=Actor("tester", "PO-1"))
    assert level(shop, "TEE-M", "WH1") == {
        "on_hand": 10,
        "committed": 0,
        "available": 10,
        "incoming": 0,
        "damaged": 0,
        "quality_control": 0,
        "safety_stock": 0,
        "hold": 0,
    }
    [m] = stock.movements_of(shop, "TEE-M")
    assert (m.kind, m.quantity, m.actor, m.reference) == (
        MovementKind.RECEIPT,
        10,
        "tester",
        "PO-1",
    )


def test_adjustment_records_its_reason(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    stock.adjust(shop, "TEE-M", "WH1", -3, reason="found torn", actor=ME)
    stock.adjust(shop, "TEE-M", "WH1", 1, reason="found behind shelf", actor=ME)
    assert level(shop, "TEE-M", "WH1")["on_hand"] == 8
    kinds = [(m.kind, m.quantity, m.reason) for m in stock.movements_of(shop, "TEE-M")]
    assert kinds[:2] == [
        (MovementKind.ADJUSTMENT, 1, "found behind shelf"),
        (MovementKind.ADJUSTMENT, -3, "found torn"),
    ]


def test_count_posts_the_variance_as_a_count_movement(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    result = stock.count(shop, "TEE-M", "WH1", 7, actor=ME)
    assert (result.variance, result.state.on_hand) == (-3, 7)
    assert stock.movements_of(shop, "TEE-M")[0].kind is MovementKind.COUNT
    up = stock.count(shop, "TEE-M", "WH1", 12, actor=ME)
    assert (up.variance, up.state.on_hand, up.state.available) == (5, 12, 12)


def test_count_below_available_takes_missing_units_from_damaged_first(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 3, source=None, target=R.DAMAGED, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 2, source=None, target=R.HOLD, actor=ME)
    stock.count(shop, "TEE-M", "WH1", 2, actor=ME)  # 8 missing: 5 available, then 3 damaged
    assert level(shop, "TEE-M", "WH1") == {
        "on_hand": 2,
        "committed": 0,
        "available": 0,
        "incoming": 0,
        "damaged": 0,
        "quality_control": 0,
        "safety_stock": 0,
        "hold": 2,
    }
    assert verify(shop).clean


def test_damage_hold_and_release_move_units_between_states(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 2, source=None, target=R.DAMAGED, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 3, source=None, target=R.QUALITY_CONTROL, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 1, source=R.QUALITY_CONTROL, target=None, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 1, source=R.QUALITY_CONTROL, target=R.DAMAGED, actor=ME)
    assert level(shop, "TEE-M", "WH1") == {
        "on_hand": 10,
        "committed": 0,
        "available": 6,
        "incoming": 0,
        "damaged": 3,
        "quality_control": 1,
        "safety_stock": 0,
        "hold": 0,
    }
    assert verify(shop).clean


def test_transfer_is_incoming_at_destination_and_in_nobodys_available(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    t = transfers.ship_transfer(shop, "WH1", "WH2", {"TEE-M": 6}, actor=ME)
    assert t.status is TransferStatus.IN_TRANSIT
    assert level(shop, "TEE-M", "WH1")["on_hand"] == 4
    wh2 = level(shop, "TEE-M", "WH2")
    assert (wh2["on_hand"], wh2["available"], wh2["incoming"]) == (0, 0, 6)
    t = transfers.receive_transfer(shop, t.id, {"TEE-M": 4}, actor=ME)
    assert t.status is TransferStatus.PARTIALLY_RECEIVED
    wh2 = level(shop, "TEE-M", "WH2")
    assert (wh2["on_hand"], wh2["available"], wh2["incoming"]) == (4, 4, 2)
    t = transfers.receive_transfer(shop, t.id, actor=ME)
    assert t.status is TransferStatus.RECEIVED
    assert level(shop, "TEE-M", "WH2")["incoming"] == 0
    assert level(shop, "TEE-M", "WH2")["on_hand"] == 6
    assert verify(shop).clean


def test_cancelled_transfer_returns_what_is_in_transit_to_the_source(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    t = transfers.ship_transfer(shop, "WH1", "WH2", {"TEE-M": 6}, actor=ME)
    transfers.receive_transfer(shop, t.id, {"TEE-M": 1}, actor=ME)
    t = transfers.cancel_transfer(shop, t.id, actor=ME)
    assert t.status is TransferStatus.RECEIVED  # one unit arrived, the rest came back
    assert (t.lines[0].received, t.lines[0].cancelled) == (1, 5)
    assert level(shop, "TEE-M", "WH1")["on_hand"] == 9
    assert level(shop, "TEE-M", "WH2")["on_hand"] == 1
    assert level(shop, "TEE-M", "WH2")["incoming"] == 0
    assert verify(shop).clean


def test_fully_cancelled_transfer_is_cancelled(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 5, actor=ME)
    t = transfers.ship_transfer(shop, "WH1", "WH2", {"TEE-M": 5}, actor=ME)
    assert transfers.cancel_transfer(shop, t.id, actor=ME).status is TransferStatus.CANCELLED
    assert level(shop, "TEE-M", "WH1")["available"] == 5


def test_verify_reports_every_tampered_balance(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 10, actor=ME)
    assert verify(shop).clean
    with engine_of(shop).begin() as conn:
        conn.execute(
            update(stock_levels).values(
                on_hand=stock_levels.c.on_hand + 1, available=stock_levels.c.available + 1
            )
        )
    report = verify(shop)
    assert not report.clean
    assert sorted((d.field, d.stored, d.rebuilt) for d in report.differences) == [
        ("available", 11, 10),
        ("on_hand", 11, 10),
    ]


def test_loss_cannot_take_committed_or_unavailable_units(shop: Services) -> None:
    stock.receive(shop, "TEE-M", "WH1", 5, actor=ME)
    stock.reclassify(shop, "TEE-M", "WH1", 2, source=None, target=R.DAMAGED, actor=ME)
    with pytest.raises(InsufficientStock, match="has 3 available; 4 needed"):
        stock.adjust(shop, "TEE-M", "WH1", -4, reason="lost", actor=ME)
    assert level(shop, "TEE-M", "WH1")["on_hand"] == 5


def test_item_and_location_update_and_archive(shop: Services) -> None:
    item = catalog.update_item(shop, "TEE-M", title="Tee, M", price="19.90", tags=["tees", "core"])
    assert (item.title, str(item.price), item.tags) == ("Tee, M", "19.9000", ("tees", "core"))
    catalog.set_item_archived(shop, "TEE-M", archived=True)
    assert [i.sku for i in catalog.list_items(shop).rows] == []
    assert [i.sku for i in catalog.list_items(shop, include_archived=True).rows] == ["TEE-M"]
    catalog.set_item_archived(shop, "TEE-M", archived=False)
    loc = catalog.update_location(shop, "WH2", zone="east", priority=5)
    assert (loc.zone, loc.priority) == ("east", 5)
    catalog.set_location_archived(shop, "WH2", archived=True)
    assert [x.code for x in catalog.list_locations(shop)] == ["WH1"]


def test_skus_are_case_sensitive(shop: Services) -> None:
    catalog.add_item(shop, "tee-m", "lower-case twin")
    stock.receive(shop, "tee-m", "WH1", 2, actor=ME)
    assert level(shop, "TEE-M", "WH1") == {}
    assert level(shop, "tee-m", "WH1")["on_hand"] == 2


def test_item_list_pages_with_a_cursor(shop: Services) -> None:
    for n in range(5):
        catalog.add_item(shop, f"SKU-{n}", f"item {n}", tags=["odd"] if n % 2 else [])
    first = catalog.list_items(shop, limit=3)
    assert [i.sku for i in first.rows] == ["SKU-0", "SKU-1", "SKU-2"]
    second = catalog.list_items(shop, limit=3, after=first.next_cursor)
    assert [i.sku for i in second.rows] == ["SKU-3", "SKU-4", "TEE-M"]
    assert second.next_cursor is None
    assert [i.sku for i in catalog.list_items(shop, tag="odd").rows] == ["SKU-1", "SKU-3"]


def test_commitments_at_many_levels_are_all_written_or_refused(shop: Services) -> None:
    from stockpool.domain.ids import LocationCode, Sku

    tee, wh1, wh2 = Sku("TEE-M"), LocationCode("WH1"), LocationCode("WH2")
    stock.receive(shop, "TEE-M", "WH1", 5, actor=ME)
    stock.receive(shop, "TEE-M", "WH2", 3, actor=ME)
    before = {loc: s.available for loc, s in stock.stock_of(shop, "TEE-M")}
    with shop.uow() as uow:
        uow.stock.commit_units([(tee, wh1, 2), (tee, wh2, 1)])
        uow.commit()
    after = {loc: (s.committed, s.available) for loc, s in stock.stock_of(shop, "TEE-M")}
    assert after == {"WH1": (2, before["WH1"] - 2), "WH2": (1, before["WH2"] - 1)}
    with shop.uow() as uow, pytest.raises(InsufficientStock, match="WH2"):
        uow.stock.commit_units([(tee, wh1, 1), (tee, wh2, before["WH2"])])  # one unit short
    assert {loc: (s.committed, s.available) for loc, s in stock.stock_of(shop, "TEE-M")} == after
