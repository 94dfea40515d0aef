"""The demo generator writes a sound, realistic history: checked on the data it wrote."""

from __future__ import annotations

import statistics
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.demo.generate import DemoSummary, StoreNotEmpty, generate
from stockpool.services.context import Services
from stockpool.services.verify import verify
from stockpool.store.uow import SqlUnitOfWork
from tests.conftest import FakeClock

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CHANNELS = ["amazon", "amazon-fba", "ebay", "shopify", "walmart", "wholesale"]


def _services(path: Path) -> Services:
    settings = Settings(database_url=f"sqlite:///{path / 'demo.db'}", data_dir=path)
    initialise(settings).dispose()
    services = build_services(settings)
    return Services(uow=services.uow, clock=FakeClock(NOW))


def _rows(app: Services, sql: str) -> list[tuple[object, ...]]:
    with app.uow() as uow:
        assert isinstance(uow, SqlUnitOfWork)
        return [tuple(r) for r in uow.connection.execute(text(sql))]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Services, DemoSummary]:
    app = _services(tmp_path_factory.mktemp("demo"))
    return app, generate(app, seed=11, items_count=200, days=120)


def test_the_summary_counts_what_was_asked_for(demo: tuple[Services, DemoSummary]) -> None:
    _, summary = demo
    assert (summary.items, summary.bundles, summary.days) == (200, 6, 120)
    assert summary.black_fridays == [date(2025, 11, 28)]
    assert sorted(summary.orders) == CHANNELS


def test_every_balance_rebuilds_from_the_ledger(demo: tuple[Services, DemoSummary]) -> None:
    app, _ = demo
    report = verify(app)
    assert report.differences == []
    assert report.invariant_violations == []
    assert report.levels_checked > 200


def test_every_channel_has_the_orders_the_summary_reports(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, summary = demo
    rows = _rows(
        app,
        "SELECT c.code, COUNT(*) FROM orders o JOIN channels c ON c.id = o.channel_id "
        "GROUP BY c.code ORDER BY c.code",
    )
    assert dict(rows) == summary.orders  # type: ignore[arg-type]
    assert all(isinstance(count, int) and count > 0 for _, count in rows)


def test_levels_run_dry_and_demand_is_lost(demo: tuple[Services, DemoSummary]) -> None:
    app, summary = demo
    running: dict[tuple[object, object], int] = {}
    emptied = set()
    for item, location, quantity in _rows(
        app, "SELECT item_id, location_id, quantity FROM movements ORDER BY at, id"
    ):
        key = (item, location)
        running[key] = running.get(key, 0) + int(quantity)  # type: ignore[call-overload]
        if running[key] == 0:
            emptied.add(key)
    assert len(emptied) > 0
    assert summary.lost_units > 0
    assert summary.stockout_level_days > 0


def test_black_friday_week_sells_more_than_the_median_week(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, _ = demo
    weeks: dict[tuple[int, int], int] = {}
    for (created,) in _rows(app, "SELECT created_at FROM orders"):
        day = datetime.fromisoformat(str(created)).date()
        week = day.isocalendar()
        weeks[(week.year, week.week)] = weeks.get((week.year, week.week), 0) + 1
    friday = date(2025, 11, 28).isocalendar()
    assert weeks[(friday.year, friday.week)] > statistics.median(weeks.values())


def test_bundles_and_multipacks_are_listed_and_sold(demo: tuple[Services, DemoSummary]) -> None:
    app, _ = demo
    [(bundle_lines,)] = _rows(app, "SELECT COUNT(*) FROM order_lines WHERE sku LIKE 'BND-%'")
    [(pack_lines,)] = _rows(
        app,
        "SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "JOIN listings x ON x.channel_id = o.channel_id AND x.listing_id = l.listing_id "
        "WHERE x.units > 1",
    )
    [(bundles,)] = _rows(app, "SELECT COUNT(*) FROM bundles")
    assert bundles == 6
    assert int(bundle_lines) > 0  # type: ignore[call-overload]
    assert int(pack_lines) > 0  # type: ignore[call-overload]


def test_the_same_seed_gives_the_same_history(
    demo: tuple[Services, DemoSummary], tmp_path: Path
) -> None:
    _, first = demo
    second = generate(_services(tmp_path), seed=11, items_count=200, days=120)
    assert second.orders == first.orders
    assert second.lost_units == first.lost_units


def test_a_store_with_data_is_refused_and_left_as_it_was(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, _ = demo
    before = _rows(app, "SELECT COUNT(*) FROM orders")
    with pytest.raises(StoreNotEmpty):
        generate(app, seed=11, items_count=200, days=120)
    assert _rows(app, "SELECT COUNT(*) FROM orders") == before


def test_the_ledger_has_every_kind_of_movement_a_brand_makes(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, _ = demo
    kinds = {str(kind) for (kind,) in _rows(app, "SELECT DISTINCT kind FROM movements")}
    assert kinds == {"receipt", "shipment", "return", "adjustment", "transfer_out", "transfer_in"}


def test_returns_come_back_after_shipping_to_the_shelf_or_as_damaged(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, summary = demo
    returns = {
        str(reason): int(str(units))
        for reason, units in _rows(
            app, "SELECT reason, SUM(quantity) FROM movements WHERE kind = 'return' GROUP BY 1"
        )
    }
    assert set(returns) == {"returned, line 1", "returned damaged, line 1"}
    assert sum(returns.values()) == summary.returned_units
    assert returns["returned damaged, line 1"] == summary.returned_damaged
    assert 0 < summary.returned_damaged < summary.returned_units / 2
    [(damaged_status,)] = _rows(
        app, "SELECT SUM(quantity) FROM status_changes WHERE note = 'returned damaged, line 1'"
    )
    assert damaged_status == summary.returned_damaged
    [(early,)] = _rows(
        app,
        "SELECT COUNT(*) FROM movements r JOIN movements s ON s.reference = r.reference "
        "AND s.item_id = r.item_id AND s.kind = 'shipment' WHERE r.kind = 'return' "
        "AND r.at <= s.at",
    )
    assert early == 0
    [(lines, units)] = _rows(
        app, "SELECT COUNT(*), SUM(returned) FROM order_lines WHERE returned > 0"
    )
    assert int(lines) > 0  # type: ignore[call-overload]
    assert int(units) >= int(lines)  # type: ignore[call-overload]


def test_damaged_units_are_written_off_every_four_weeks(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, summary = demo
    [(handled,)] = _rows(
        app, "SELECT SUM(quantity) FROM status_changes WHERE note = 'damaged in handling'"
    )
    assert handled == summary.damaged_in_handling
    assert summary.damaged_in_handling > 0
    write_offs = _rows(
        app,
        "SELECT quantity, reason, reference FROM movements WHERE kind = 'adjustment' ORDER BY id",
    )
    assert all(int(q) < 0 for q, _, _ in write_offs)  # type: ignore[call-overload]
    assert {reason for _, reason, _ in write_offs} == {"write-off: damaged, disposed of"}
    assert -sum(int(q) for q, _, _ in write_offs) == summary.written_off  # type: ignore[call-overload]
    assert len({ref for _, _, ref in write_offs}) == 120 // 28  # one write-off run each 28 days
    [(damaged_now,)] = _rows(app, "SELECT SUM(damaged) FROM stock_levels")
    assert damaged_now == summary.returned_damaged + summary.damaged_in_handling - (
        summary.written_off
    )


def test_the_warehouse_replenishes_the_3pl_and_the_store_by_transfer(
    demo: tuple[Services, DemoSummary],
) -> None:
    app, summary = demo
    routes = _rows(
        app,
        "SELECT a.code, b.code, COUNT(*) FROM transfers t "
        "JOIN locations a ON a.id = t.from_location_id "
        "JOIN locations b ON b.id = t.to_location_id GROUP BY 1, 2 ORDER BY 1, 2",
    )
    assert [(a, b) for a, b, _ in routes] == [("WH", "3PL"), ("WH", "STORE")]
    assert sum(int(n) for _, _, n in routes) == summary.transfers  # type: ignore[call-overload]
    [(out, into, transit)] = _rows(
        app,
        "SELECT (SELECT -SUM(quantity) FROM movements WHERE kind = 'transfer_out'), "
        "(SELECT SUM(quantity) FROM movements WHERE kind = 'transfer_in'), "
        "(SELECT COALESCE(SUM(l.quantity), 0) FROM transfer_lines l "
        "JOIN transfers t ON t.id = l.transfer_id WHERE t.status = 'in_transit')",
    )
    assert out == into + transit  # type: ignore[operator]
    [(open_transfers,)] = _rows(app, "SELECT COUNT(*) FROM transfers WHERE status = 'in_transit'")
    assert open_transfers == summary.open_transfers
