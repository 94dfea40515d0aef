"""`stockpool import ...` and `stockpool export ...` in the exact forms scripts use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stockpool.bootstrap import Settings, build_services
from tests.clirunner import cli
from tests.dbsnapshot import snapshot

SHOPIFY = (
    "Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,"
    "Option3 Value,SKU,HS Code,COO,Location,Incoming,Unavailable,Committed,Available,On hand\n"
    "tee,Tee,Size,M,,,,,TEE,,,Main warehouse,0,0,0,12,12\n"
    "tee,Tee,Size,M,,,,,TEE,,,Pop-up,0,0,0,not stocked,not stocked\n"
    "cap,Cap,Title,Default Title,,,,,CAP,,,Outlet,0,0,0,3,3\n"
)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert cli(url, "init")[0] == 0
    for args in (
        ("location", "add", "WH1", "--name", "Main warehouse", "--kind", "warehouse"),
        ("item", "add", "TEE", "--title", "Tee"),
        ("item", "add", "CAP", "--title", "Cap"),
    ):
        assert cli(url, *args)[0] == 0
    return url


def on_hand(db: str, sku: str) -> dict[str, int]:
    code, out, _ = cli(db, "stock", "show", sku, "--json")
    assert code == 0
    return {row["location"]: row["on_hand"] for row in json.loads(out)}


def test_the_shopify_import_runs_in_its_documented_form(db: str, tmp_path: Path) -> None:
    file = tmp_path / "inventory_export_1.csv"
    file.write_text(SHOPIFY, encoding="utf-8-sig")
    stockpool = str(Path(sys.executable).with_name("stockpool"))
    args = [stockpool, "--db", db, "import", "shopify-inventory", str(file), "--skip-bad-rows"]
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "skipped: row 4, column Location: no location named 'Outlet'" in result.stderr
    assert "3 rows, 1 imported, 0 unchanged, 1 bad rows skipped" in result.stdout
    assert on_hand(db, "TEE") == {"WH1": 12}


def test_shopify_locations_can_be_created_by_name(db: str, tmp_path: Path) -> None:
    file = tmp_path / "inventory.csv"
    file.write_text(SHOPIFY, encoding="utf-8")
    code, _, err = cli(db, "import", "shopify-inventory", str(file), "--create-locations")
    assert code == 0, err
    assert on_hand(db, "CAP") == {"Outlet": 3}


def test_a_bad_file_changes_nothing_and_lists_every_bad_row(db: str, tmp_path: Path) -> None:
    file = tmp_path / "stock.csv"
    file.write_text("sku,location,on_hand\nTEE,WH1,5\nNOPE,WH1,1\nCAP,WH1,1.5\n")
    services = build_services(Settings(db, tmp_path))
    before = snapshot(services)
    code, out, err = cli(db, "import", "stock", str(file))
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: 2 bad row(s) in 3 data row(s); nothing was imported (fix them, or pass "
        "--skip-bad-rows to import the others):",
        "  row 3, column sku: unknown SKU 'NOPE'",
        "  row 4, column on_hand: on_hand must be a whole number of units, got '1.5'",
    ]
    assert snapshot(services) == before
    services.uow.engine.dispose()  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"sku,on_hand\nTEE,1\n", "missing column(s) location"),
        ("sku,location,on_hand\nT\u00c9E,WH1,1\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_an_unreadable_file_is_one_clear_error(
    db: str, tmp_path: Path, content: bytes, message: str
) -> None:
    file = tmp_path / "stock.csv"
    file.write_bytes(content)
    code, _, err = cli(db, "import", "stock", str(file))
    assert code == 2
    assert message in err


def test_exports_are_spreadsheet_safe_and_import_again(db: str, tmp_path: Path) -> None:
    assert cli(db, "item", "update", "CAP", "--title", "=2+3")[0] == 0
    out_file = tmp_path / "items.csv"
    code, _, _ = cli(db, "export", "items", "--output", str(out_file))
    assert code == 0
    data = out_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfsku,title,")
    assert b"CAP,'=2+3," in data
    assert cli(db, "import", "items", str(out_file))[0] == 0
    code, out, _ = cli(db, "item", "list", "--json")
    assert [i["title"] for i in json.loads(out)] == ["=2+3", "Tee"]
