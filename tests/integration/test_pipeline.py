"""Writes sent in a pipeline (`SqlUnitOfWork.pipeline`), on SQLite and PostgreSQL alike:
reads inside still see their rows, a conditional write that finds too few units still
refuses before anything commits, and the available stock a unit of work remembers for the
ATS recompute is what the database holds."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from stockpool.domain.errors import InsufficientStock
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import StockDelta
from stockpool.services import catalog, stock
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from stockpool.store.driver import DriverStatement

ME = Actor("tester")
TEE, CAP = Sku("TEE"), Sku("CAP")
WH1, WH2 = LocationCode("WH1"), LocationCode("WH2")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main", "warehouse", priority=1)
    catalog.add_location(app, "WH2", "Second", "3pl", priority=2)
    catalog.add_item(app, "TEE", "Tee")
    catalog.add_item(app, "CAP", "Cap")
    stock.receive(app, "TEE", "WH1", 5, actor=ME)
    stock.receive(app, "TEE", "WH2", 3, actor=ME)
    stock.receive(app, "CAP", "WH1", 2, actor=ME)
    return app


def committed(app: Services) -> dict[tuple[str, str], int]:
    with app.uow() as uow:
        return {
            (sku, code): uow.stock.get_state(Sku(sku), LocationCode(code)).committed
            for sku, code in (("TEE", "WH1"), ("TEE", "WH2"), ("CAP", "WH1"))
        }


def test_a_short_conditional_write_in_a_pipeline_refuses_and_nothing_commits(
    shop: Services,
) -> None:
    before = committed(shop)
    with shop.uow() as uow:
        uow.stock.lock_items({TEE, CAP})
        with pytest.raises(InsufficientStock, match="CAP"), uow.pipeline():
            uow.stock.commit_units([(TEE, WH1, 2), (CAP, WH1, 3)])  # CAP has 2
    assert committed(shop) == before
    assert verify(shop).clean


def test_a_short_conditional_write_outside_a_pipeline_refuses_at_once(shop: Services) -> None:
    with shop.uow() as uow, pytest.raises(InsufficientStock, match="CAP"):
        uow.stock.commit_units([(CAP, WH1, 3)])
    assert committed(shop)[("CAP", "WH1")] == 0


def test_reads_inside_a_pipeline_see_their_rows(shop: Services) -> None:
    with shop.uow() as uow, uow.pipeline():
        uow.stock.commit_units([(TEE, WH1, 1)])
        assert uow.stock.get_state(TEE, WH1).committed == 1  # read through SQLAlchemy
        raw = DriverStatement("SELECT committed FROM stock_levels WHERE committed = :n")
        assert raw.run(uow.connection, {"n": 1}) == (1,)  # straight on the driver
        assert uow.catalog.get_item(CAP).sku == CAP
        uow.commit()
    assert committed(shop)[("TEE", "WH1")] == 1


def test_an_error_in_a_pipeline_rolls_the_unit_of_work_back(shop: Services) -> None:
    def commit_then_fail(uow: UnitOfWork) -> None:
        with uow.pipeline():
            uow.stock.commit_units([(TEE, WH1, 1)])
            DriverStatement("DELETE FROM no_such_table").write(uow.connection, {})  # type: ignore[attr-defined]

    with shop.uow() as uow, pytest.raises(Exception, match="no_such_table"):
        commit_then_fail(uow)
    assert committed(shop)[("TEE", "WH1")] == 0


def test_available_known_after_commitments_is_what_the_database_holds(shop: Services) -> None:
    with shop.uow() as uow:
        assert uow.stock.known_available({TEE}) is None  # nothing locked yet
        uow.stock.lock_items({TEE, CAP})
        with uow.pipeline():
            uow.stock.commit_units([(CAP, WH1, 2), (TEE, WH2, 1)])
        known = uow.stock.known_available({TEE, CAP})
        stored = {
            (sku, code): units
            for sku, code, units in uow.connection.execute(
                text(
                    "SELECT i.sku, l.code, s.available FROM stock_levels s "
                    "JOIN items i ON i.id = s.item_id JOIN locations l ON l.id = s.location_id"
                )
            )
        }
        assert known == {TEE: {WH1: 5, WH2: 2}, CAP: {}}  # positive units only
        assert stored == {("TEE", "WH1"): 5, ("TEE", "WH2"): 2, ("CAP", "WH1"): 0}
        uow.stock.apply(TEE, WH1, StockDelta(committed=1), expect_on_hand=None)
        assert uow.stock.known_available({TEE}) is None  # changed otherwise: read again
        assert uow.stock.known_available({CAP}) == {CAP: {}}
