"""The command line, in the exact forms other tools script against."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stockpool.bootstrap import Settings, build_services
from tests.clirunner import cli
from tests.dbsnapshot import snapshot


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli(url, "init")[0] == 0
    for args in (
        ("location", "add", "WH1", "--name", "Main", "--kind", "warehouse"),
        ("location", "add", "WH2", "--name", "Second", "--kind", "3pl"),
        ("item", "add", "TEE-M", "--title", "Tee M"),
        ("stock", "receive", "TEE-M", "WH1", "10"),
    ):
        code, _, err = cli(url, *args)
        assert code == 0, err
    return url


def stock_show(db: str) -> list[dict[str, object]]:
    code, out, _ = cli(db, "stock", "show", "TEE-M", "--json")
    assert code == 0
    rows = json.loads(out)
    assert isinstance(rows, list)
    return rows


def test_full_workflow_in_the_documented_forms(db: str) -> None:
    assert cli(db, "stock", "adjust", "TEE-M", "WH1", "-2", "--reason", "lost")[0] == 0
    assert cli(db, "stock", "count", "TEE-M", "WH1", "7")[0] == 0
    assert cli(db, "stock", "damage", "TEE-M", "WH1", "2")[0] == 0
    assert cli(db, "stock", "release", "TEE-M", "WH1", "1", "--from", "damaged")[0] == 0
    code, out, _ = cli(db, "stock", "transfer", "TEE-M", "WH1", "WH2", "3", "--json")
    assert code == 0
    transfer_id = json.loads(out)["id"]
    assert stock_show(db) == [
        {
            "location": "WH1",
            "on_hand": 4,
            "committed": 0,
            "unavailable": {"damaged": 1, "quality_control": 0, "safety_stock": 0, "hold": 0},
            "available": 3,
            "incoming": 0,
        },
        {
            "location": "WH2",
            "on_hand": 0,
            "committed": 0,
            "unavailable": {"damaged": 0, "quality_control": 0, "safety_stock": 0, "hold": 0},
            "available": 0,
            "incoming": 3,
        },
    ]
    code, out, _ = cli(db, "stock", "transfer", "--receive", str(transfer_id), "--json")
    assert code == 0
    assert json.loads(out)["status"] == "received"
    wh2 = stock_show(db)[1]
    assert (wh2["on_hand"], wh2["incoming"]) == (3, 0)
    code, out, _ = cli(db, "stock", "movements", "TEE-M", "--json")
    assert [m["kind"] for m in json.loads(out)] == [
        "transfer_in",
        "transfer_out",
        "count",
        "adjustment",
        "receipt",
    ]
    code, out, _ = cli(db, "verify")
    assert (code, "clean" in out) == (0, True)
    assert json.loads(cli(db, "item", "list", "--json")[1])[0]["sku"] == "TEE-M"
    assert [x["code"] for x in json.loads(cli(db, "location", "list", "--json")[1])] == [
        "WH1",
        "WH2",
    ]


BAD = {
    "unknown sku": (("stock", "receive", "NOPE", "WH1", "1"), "unknown SKU 'NOPE'"),
    "unknown location": (("stock", "receive", "TEE-M", "XX", "1"), "unknown location 'XX'"),
    "zero quantity": (("stock", "receive", "TEE-M", "WH1", "0"), "at least 1"),
    "negative quantity": (("stock", "receive", "TEE-M", "WH1", "-1"), "whole number"),
    "fractional quantity": (("stock", "receive", "TEE-M", "WH1", "1.5"), "whole number"),
    "text quantity": (("stock", "receive", "TEE-M", "WH1", "ten"), "whole number"),
    "fractional delta": (
        ("stock", "adjust", "TEE-M", "WH1", "-0.5", "--reason", "x"),
        "whole number",
    ),
    "damage too many": (("stock", "damage", "TEE-M", "WH1", "11"), "has 10 available; 11"),
    "transfer too many": (
        ("stock", "transfer", "TEE-M", "WH1", "WH2", "11"),
        "has 10 available; 11",
    ),
    "release unknown reason": (
        ("stock", "release", "TEE-M", "WH1", "1", "--from", "lost"),
        "reason must be one of",
    ),
    "duplicate sku": (("item", "add", "TEE-M", "--title", "again"), "exists already"),
    "bad kind": (("location", "add", "X1", "--name", "x", "--kind", "shed"), "location kind"),
    "unknown transfer": (("stock", "transfer", "--receive", "42"), "unknown transfer 42"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_message_and_changes_nothing(db: str, case: str) -> None:
    args, message = BAD[case]
    services = build_services(Settings(database_url=db, data_dir=Path(".")))
    before = snapshot(services)
    code, out, err = cli(db, *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert snapshot(services) == before


def test_malformed_database_url_exits_2() -> None:
    code, _, err = cli("postgres://user@:notaport/x", "verify")
    assert code == 2
    assert "malformed database URL" in err
    code, _, err = cli("mysql://x@y/z", "verify")
    assert code == 2
    assert "unsupported database 'mysql'" in err


def test_uninitialised_database_says_to_run_init(tmp_path: Path) -> None:
    code, _, err = cli(f"sqlite:///{tmp_path / 'empty.db'}", "item", "list")
    assert code == 2
    assert "run `stockpool init` first" in err


def test_verify_exits_1_on_a_difference(db: str, tmp_path: Path) -> None:
    import sqlite3

    conn = sqlite3.connect(db.removeprefix("sqlite:///"))
    conn.execute("UPDATE stock_levels SET on_hand = on_hand + 2, available = available + 2")
    conn.commit()
    conn.close()
    code, out, _ = cli(db, "verify", "--json")
    assert code == 1
    report = json.loads(out)
    assert {(d["field"], d["stored"], d["rebuilt"]) for d in report["differences"]} == {
        ("on_hand", 12, 10),
        ("available", 12, 10),
    }


def test_installed_script_and_database_url_from_environment(db: str) -> None:
    env = {"STOCKPOOL_DATABASE_URL": db, "PATH": "/usr/bin:/bin"}
    script = Path(sys.executable).with_name("stockpool")
    done = subprocess.run(
        [str(script), "stock", "show", "TEE-M", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["on_hand"] == 10
