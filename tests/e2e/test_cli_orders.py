"""The orders commands in the exact forms other tools script against."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stockpool.bootstrap import Settings, build_services
from tests.clirunner import cli
from tests.dbsnapshot import snapshot


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for args in (
        ("init",),
        ("location", "add", "WH1", "--name", "Main", "--kind", "warehouse", "--zone", "east"),
        ("location", "add", "WH2", "--name", "West", "--kind", "3pl", "--zone", "west"),
        ("item", "add", "TEE", "--title", "Tee"),
        ("stock", "receive", "TEE", "WH1", "3"),
        ("stock", "receive", "TEE", "WH2", "3"),
        ("channel", "add", "shop", "--kind", "shopify", "--locations", "WH1,WH2"),
        ("listing", "add", "shop", "TEE-1", "TEE"),
    ):
        code, _, err = cli(url, *args)
        assert code == 0, (args, err)
    return url


def state(db: str, tmp: Path) -> dict[str, list[tuple[object, ...]]]:
    return snapshot(build_services(Settings(database_url=db, data_dir=tmp)))


def test_reserve_exits_0_and_prints_where_the_order_is_committed(db: str) -> None:
    code, out, _ = cli(
        db,
        "orders",
        "reserve",
        "--channel",
        "shop",
        "--external-id",
        "o-1",
        "--line",
        "TEE-1:4",
        "--json",
    )
    assert code == 0
    body = json.loads(out)
    assert body["accepted"] is True
    assert body["lines"][0]["sourced"] == [
        {"sku": "TEE", "location": "WH1", "committed": 3},
        {"sku": "TEE", "location": "WH2", "committed": 1},
    ]


def test_a_refused_reserve_exits_3_with_the_shortfall_and_writes_nothing(
    db: str, tmp_path: Path
) -> None:
    before = state(db, tmp_path)
    code, out, _ = cli(
        db,
        "orders",
        "reserve",
        "--channel",
        "shop",
        "--external-id",
        "o-1",
        "--line",
        "TEE-1:7",
        "--json",
    )
    assert code == 3
    assert json.loads(out) == {
        "accepted": False,
        "channel": "shop",
        "external_id": "o-1",
        "shortfall": [{"listing": "TEE-1", "asked": 7, "available": 6}],
    }
    assert state(db, tmp_path) == before


@pytest.mark.parametrize(
    "line",
    ["TEE-1", "TEE-1:0", "TEE-1:-2", "TEE-1:1.5", "NOPE:1", ":2"],
)
def test_bad_lines_exit_2_with_one_message_and_write_nothing(
    db: str, tmp_path: Path, line: str
) -> None:
    before = state(db, tmp_path)
    code, out, err = cli(
        db, "orders", "reserve", "--channel", "shop", "--external-id", "o-1", "--line", line
    )
    assert code == 2
    assert err.count("error:") == 1
    assert out == ""
    assert state(db, tmp_path) == before


def test_bad_rows_of_a_bulk_file_are_reported_by_line_and_change_nothing(
    db: str, tmp_path: Path
) -> None:
    def row(external_id: str, listing: str, quantity: object) -> str:
        order = {"channel": "shop", "external_id": external_id}
        return json.dumps({**order, "lines": [{"listing": listing, "quantity": quantity}]})

    bad = [row("b-1", "TEE-1", "two"), "not json", row("b-2", "TEE-1", -1), row("b-3", "NOPE", 1)]
    before = state(db, tmp_path)
    code, out, _ = cli(db, "orders", "reserve", "--file", "-", stdin="\n".join(bad))
    assert code == 2
    results = [json.loads(x) for x in out.splitlines()]
    assert [r["line"] for r in results] == [1, 2, 3, 4]
    assert all(r["error"] for r in results)
    assert state(db, tmp_path) == before
    good = (
        '{"channel": "shop", "external_id": "g-1", "lines": [{"listing": "TEE-1", "quantity": 1}]}'
    )
    code, out, _ = cli(db, "orders", "reserve", "--file", "-", stdin="\n".join([good, *bad]))
    assert code == 2  # the worst of them
    first, *rest = [json.loads(x) for x in out.splitlines()]
    assert first["accepted"] is True
    assert first["external_id"] == "g-1"
    assert [r["line"] for r in rest] == [2, 3, 4, 5]


def test_bulk_reserve_reads_json_lines_from_stdin(db: str) -> None:
    rows = [
        {"channel": "shop", "external_id": f"b-{n}", "lines": [{"listing": "TEE-1", "quantity": 2}]}
        for n in range(4)
    ]
    code, out, _ = cli(
        db, "orders", "reserve", "--file", "-", stdin="\n".join(json.dumps(r) for r in rows)
    )
    assert code == 3
    results = [json.loads(x) for x in out.splitlines()]
    assert [r["accepted"] for r in results] == [True, True, True, False]


def test_ingest_ship_cancel_and_exceptions(db: str) -> None:
    code, _, _ = cli(
        db,
        "orders",
        "ingest",
        "--channel",
        "shop",
        "--external-id",
        "m-1",
        "--updated-at",
        "2026-03-01T10:00:00Z",
        "--line",
        "TEE-1:8",
    )
    assert code == 0
    code, out, _ = cli(db, "orders", "exceptions", "--json")
    [exception] = json.loads(out)
    assert (exception["listing"], exception["missing"], exception["items"]) == (
        "TEE-1",
        2,
        {"TEE": 2},
    )
    assert isinstance(exception["age_seconds"], int)
    code, _, _ = cli(db, "orders", "ship", "--channel", "shop", "--external-id", "m-1")
    assert code == 0
    code, out, _ = cli(db, "orders", "show", "--channel", "shop", "--external-id", "m-1", "--json")
    assert json.loads(out)["lines"][0]["shipped"] == 6
    code, out, _ = cli(
        db, "orders", "cancel", "--channel", "shop", "--external-id", "m-1", "--json"
    )
    assert code == 0
    assert json.loads(out)["status"] == "shipped"
    code, out, _ = cli(db, "orders", "exceptions", "--json")
    assert json.loads(out) == []
    code, out, _ = cli(db, "verify")
    assert code == 0


def test_nearest_zone_sourcing_and_zone_distances(db: str) -> None:
    assert cli(db, "zone", "distance", "west", "north", "2")[0] == 0
    assert cli(db, "zone", "distance", "east", "north", "9")[0] == 0
    assert cli(db, "channel", "update", "shop", "--sourcing", "nearest_zone")[0] == 0
    code, out, _ = cli(
        db,
        "orders",
        "reserve",
        "--channel",
        "shop",
        "--external-id",
        "z-1",
        "--line",
        "TEE-1:2",
        "--ship-to",
        "north",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["lines"][0]["sourced"] == [
        {"sku": "TEE", "location": "WH2", "committed": 2}
    ]
    code, _, err = cli(db, "channel", "update", "shop", "--sourcing", "closest")
    assert code == 2
    assert "sourcing must be one of" in err
