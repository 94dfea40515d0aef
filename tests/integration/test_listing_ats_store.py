"""Stored ATS in `listing_ats`, kept by item; commitments referring to their stock level.

Migrations 0009 and 0010 on databases that hold data (both ways), the keys of listings
loaded in bulk, the read sent ahead inside a pipeline, and the reference of a commitment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from stockpool.store.channels import add_missing_ats_rows
from stockpool.store.engine import (
    check_references_at_commit,
    create_store_engine,
    parse_database_url,
)
from stockpool.store.migrate import alembic_config, downgrade, upgrade
from stockpool.store.uow import SqlUnitOfWork
from stockpool.store.uow import SqlUnitOfWorkFactory as Factory
from tests.conftest import PostgresServer

SPAN = 1 << 20
AT = "2026-01-01 00:00:00"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on an empty database of each store (no migration run yet)."""
    if request.param == "sqlite":
        engine = create_store_engine(parse_database_url(f"sqlite:///{tmp_path / 'm.db'}"))
        yield engine
        engine.dispose()
        return
    server: PostgresServer = request.getfixturevalue("pg_server")
    name = f"stockpool_m_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"
    engine = create_store_engine(parse_database_url(server.create(name)))
    yield engine
    engine.dispose()
    server.drop(name)


def _to(engine: Engine, revision: str) -> None:
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _catalog_0008(c: Connection) -> None:
    """Two items, a bundle, listings on one channel with stored ATS, a level, an order with
    a commitment: the schema of revision 0008."""
    c.execute(
        text(
            "INSERT INTO channels (code, name, kind, account, priority, fee_rate, created_at, "
            "updated_at) VALUES ('web', 'Web', 'other', '', 1, 0, :at, :at)"
        ),
        {"at": AT},
    )
    c.execute(
        text(
            "INSERT INTO locations (code, name, kind, priority, created_at, updated_at) "
            "VALUES ('WH1', 'Main', 'warehouse', 1, :at, :at)"
        ),
        {"at": AT},
    )
    for sku in ("A", "B"):
        c.execute(
            text(
                "INSERT INTO items (sku, title, tags, created_at, updated_at) "
                "VALUES (:sku, :sku, '[]', :at, :at)"
            ),
            {"sku": sku, "at": AT},
        )
    c.execute(
        text(
            "INSERT INTO bundles (sku, title, created_at, updated_at) VALUES ('K', 'Kit', :at, :at)"
        ),
        {"at": AT},
    )
    listings = [("l-A", 1, None, 7, 3), ("l-B", 2, None, 5, 1), ("l-K", None, 1, 2, 9)]
    for listing, item, bundle, ats, version in listings:
        c.execute(
            text(
                "INSERT INTO listings (channel_id, listing_id, channel_sku, item_id, bundle_id, "
                "units, ats, ats_version, created_at) "
                "VALUES (1, :l, :l, :i, :b, 1, :ats, :v, :at)"
            ),
            {"l": listing, "i": item, "b": bundle, "ats": ats, "v": version, "at": AT},
        )
    c.execute(
        text(
            "INSERT INTO stock_levels (item_id, location_id, on_hand, committed, available, "
            "version) VALUES (1, 1, 10, 2, 8, 1)"
        )
    )
    c.execute(
        text(
            "INSERT INTO orders (channel_id, external_id, kind, status, created_at, updated_at) "
            "VALUES (1, 'o-1', 'reserve', 'open', :at, :at)"
        ),
        {"at": AT},
    )
    c.execute(
        text(
            "INSERT INTO order_lines (order_id, line_no, listing_id, sku, components, quantity) "
            "VALUES (1, 1, 'l-A', 'A', '{\"A\": 1}', 2)"
        )
    )
    c.execute(
        text(
            "INSERT INTO order_commitments (line_id, item_id, location_id, committed) "
            "VALUES (1, 1, 1, 2)"
        )
    )


def _head_with_data(engine: Engine) -> None:
    """The data of `_catalog_0008`, written at revision 0008, then every later migration."""
    _to(engine, "0008")
    with engine.begin() as c:
        _catalog_0008(c)
    upgrade(engine)


def _stored(c: Connection) -> dict[int, tuple[int, int, int]]:
    rows = c.execute(text("SELECT listing_row_id, id, ats, ats_version FROM listing_ats"))
    return {int(r): (int(k), int(a), int(v)) for r, k, a, v in rows}


def test_the_stored_ats_moves_to_listing_ats_keyed_by_item_and_back(blank: Engine) -> None:
    _head_with_data(blank)
    with blank.connect() as c:
        # Each listing keeps its value and version, under its item (minus its bundle).
        assert _stored(c) == {1: (1 * SPAN, 7, 3), 2: (2 * SPAN, 5, 1), 3: (-1 * SPAN, 2, 9)}
        columns = c.execute(text("SELECT * FROM listings")).keys()
        assert {"ats", "ats_version", "ats_at"}.isdisjoint(columns)
        assert c.execute(text("SELECT committed FROM order_commitments")).scalar_one() == 2
    downgrade(blank, "0008")
    with blank.connect() as c:
        found = c.execute(text("SELECT id, ats, ats_version FROM listings ORDER BY id")).all()
        assert [tuple(r) for r in found] == [(1, 7, 3), (2, 5, 1), (3, 2, 9)]
    upgrade(blank)
    with blank.connect() as c:
        assert _stored(c)[3] == (-1 * SPAN, 2, 9)


def test_migrations_leave_sqlite_checking_references(tmp_path: Path) -> None:
    engine = create_store_engine(parse_database_url(f"sqlite:///{tmp_path / 'fk.db'}"))
    upgrade(engine)  # foreign keys are off while migrations run (SQLite: per connection)
    for _ in range(3):  # whichever pooled connection comes back
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()


def test_listings_loaded_in_bulk_get_keys_next_to_their_items_listings(blank: Engine) -> None:
    _head_with_data(blank)
    with blank.begin() as c:
        c.execute(
            text(
                "INSERT INTO channels (code, name, kind, account, priority, fee_rate, "
                "created_at, updated_at) VALUES ('amzn', 'Amazon', 'other', '', 2, 0, :at, :at)"
            ),
            {"at": AT},
        )
        for listing, item, bundle in (("m-A", 1, None), ("m-A2", 1, None), ("m-K", None, 1)):
            c.execute(
                text(
                    "INSERT INTO listings (channel_id, listing_id, channel_sku, item_id, "
                    "bundle_id, units, created_at) VALUES (2, :l, :l, :i, :b, 1, :at)"
                ),
                {"l": listing, "i": item, "b": bundle, "at": AT},
            )
        assert add_missing_ats_rows(c) == 3
        assert add_missing_ats_rows(c) == 0  # every listing has its row now
    with blank.connect() as c:
        stored = _stored(c)
    # New listings follow their item's (or bundle's) earlier ones, at 0 and version 0.
    assert stored[4] == (1 * SPAN + 1, 0, 0)
    assert stored[5] == (1 * SPAN + 2, 0, 0)
    assert stored[6] == (-1 * SPAN + 1, 0, 0)


def test_a_commitment_needs_its_stock_level_by_commit(blank: Engine) -> None:
    _head_with_data(blank)
    insert = text(
        "INSERT INTO order_commitments (line_id, item_id, location_id, committed) "
        "VALUES (1, :item, 1, 1)"
    )
    with pytest.raises(IntegrityError, match="(?i)foreign key"), blank.begin() as c:
        c.execute(insert, {"item": 2})  # item B has no level at WH1
    with blank.connect() as c:
        assert c.execute(text("SELECT COUNT(*) FROM order_commitments")).scalar_one() == 1
    with blank.begin() as c:  # a bulk load may have it checked at commit
        check_references_at_commit(c)
        c.execute(insert, {"item": 2})
        c.execute(
            text(
                "INSERT INTO stock_levels (item_id, location_id, on_hand, committed, available, "
                "version) VALUES (2, 1, 5, 1, 4, 1)"
            )
        )
    with blank.connect() as c:
        count = c.execute(text("SELECT COUNT(*) FROM order_commitments")).scalar_one()
    assert count == 2


def test_a_read_sent_ahead_answers_as_a_direct_read_and_a_write_makes_it_stale(
    blank: Engine,
) -> None:
    _head_with_data(blank)
    factory = Factory(blank)

    def read(uow: SqlUnitOfWork, rows: set[int]) -> list[tuple[int, int, int]]:
        return sorted(uow.ats.stored_rows(rows))

    with factory() as uow:
        direct = read(uow, {1, 2, 3})
    assert direct == [(1, 7, 3), (2, 5, 1), (3, 2, 9)]
    with factory() as uow, uow.pipeline():
        uow.ats.prefetch({1, 2, 3})
        uow.ats.receive_prefetched()
        assert read(uow, {1, 3}) == [(1, 7, 3), (3, 2, 9)]
    with factory() as uow:
        with uow.pipeline():
            uow.ats.prefetch({1, 2, 3})
            uow.ats.store([(1, 6, 4)], at=datetime(2026, 1, 2, tzinfo=UTC))
            assert read(uow, {1, 2}) == [(1, 6, 4), (2, 5, 1)]  # read again, not the stale one
        uow.commit()
    with factory() as uow, uow.pipeline():
        uow.ats.prefetch({2})
        assert read(uow, {1, 2}) == [(1, 6, 4), (2, 5, 1)]  # more than was sent ahead
