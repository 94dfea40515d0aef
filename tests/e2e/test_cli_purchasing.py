"""The purchasing, transfer and count commands in the forms people type."""

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
    assert cli(url, "init")[0] == 0
    for args in (
        ("location", "add", "WH1", "--name", "Main", "--kind", "warehouse"),
        ("location", "add", "WH2", "--name", "Second", "--kind", "3pl"),
        ("item", "add", "TEE", "--title", "Tee"),
        ("item", "add", "CAP", "--title", "Cap"),
        ("stock", "receive", "TEE", "WH1", "10"),
        ("supplier", "add", "ACME", "--name", "Acme", "--currency", "EUR", "--lead-time", "10"),
        ("supplier", "terms", "ACME", "TEE", "--cost", "2.5", "--moq", "12"),
    ):
        code, _, err = cli(url, *args)
        assert code == 0, err
    return url


def incoming(db: str, sku: str) -> dict[str, tuple[int, int]]:
    code, out, _ = cli(db, "stock", "show", sku, "--json")
    assert code == 0
    return {row["location"]: (row["on_hand"], row["incoming"]) for row in json.loads(out)}


def test_a_purchase_order_from_draft_to_received(db: str) -> None:
    code, out, err = cli(
        db, "po", "create", "--supplier", "ACME", "--to", "WH1", "--line", "TEE:6",
        "--line", "CAP:4@1.20", "--json",
    )  # fmt: skip
    assert code == 0
    assert "TEE: 6 is below the MOQ of 12" in err
    po = json.loads(out)
    assert (po["status"], [li["unit_cost"] for li in po["lines"]]) == (
        "draft",
        ["1.2000", "2.5000"],
    )
    assert cli(db, "po", "open", str(po["id"]), "--expected", "2026-12-01")[0] == 0
    assert incoming(db, "TEE") == {"WH1": (10, 6)}
    code, out, _ = cli(db, "po", "receive", str(po["id"]), "--line", "TEE:8@3", "--json")
    assert (code, json.loads(out)["status"]) == (0, "partially_received")
    assert incoming(db, "TEE") == {"WH1": (18, 0)}
    code, out, _ = cli(db, "po", "cancel", str(po["id"]), "--json")
    assert (code, json.loads(out)["status"]) == (0, "cancelled")
    assert incoming(db, "CAP") == {"WH1": (0, 0)}
    code, out, _ = cli(db, "supplier", "lead-times", "ACME", "TEE", "--json")
    assert json.loads(out) == ["0.000"]
    assert cli(db, "verify")[0] == 0


def test_a_multi_line_transfer_is_created_with_an_expected_date(db: str) -> None:
    assert cli(db, "stock", "receive", "CAP", "WH1", "5")[0] == 0
    code, out, _ = cli(
        db, "transfer", "create", "--from", "WH1", "--to", "WH2", "--line", "TEE:3",
        "--line", "CAP:2", "--expected", "2026-12-24", "--json",
    )  # fmt: skip
    assert code == 0
    t = json.loads(out)
    assert (t["status"], t["expected_at"]) == ("in_transit", "2026-12-24T00:00:00+00:00")
    assert incoming(db, "TEE") == {"WH1": (7, 0), "WH2": (0, 3)}
    assert cli(db, "transfer", "receive", str(t["id"]), "--line", "TEE:3")[0] == 0
    assert incoming(db, "TEE") == {"WH1": (7, 0), "WH2": (3, 0)}


def test_a_count_waits_for_approval_above_the_threshold(db: str, tmp_path: Path) -> None:
    file = tmp_path / "count.csv"
    file.write_text("sku,location,counted\nTEE,WH1,2\n", encoding="utf-8")
    code, out, _ = cli(db, "count", "import", str(file), "--max-units", "5", "--json")
    count = json.loads(out)
    assert (code, count["lines"][0]["variance"], count["lines"][0]["status"]) == (
        0,
        -8,
        "pending_approval",
    )
    code, out, _ = cli(db, "count", "approve", str(count["id"]), "--line", "TEE@WH1", "--json")
    assert (code, json.loads(out)["lines"][0]["status"]) == (0, "posted")
    assert incoming(db, "TEE") == {"WH1": (2, 0)}


BAD = {
    "bad line": (("po", "create", "--supplier", "ACME", "--to", "WH1", "--line", "TEE"), "SKU:QTY"),
    "bad quantity": (
        ("po", "create", "--supplier", "ACME", "--to", "WH1", "--line", "TEE:x"),
        "whole",
    ),
    "bad date": (("po", "expect", "1", "tomorrow"), "YYYY-MM-DD"),
    "unknown po": (("po", "receive", "42"), "unknown purchase order 42"),
    "unknown supplier": (
        ("po", "create", "--supplier", "X", "--to", "WH1", "--line", "TEE:1"),
        "unknown supplier",
    ),
    "bad transfer line": (
        ("transfer", "create", "--from", "WH1", "--to", "WH2", "--line", "TEE:-1"),
        "whole",
    ),
    "missing count file": (("count", "import", "/nonexistent.csv"), "cannot read"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_gets_one_message_and_exit_2(db: str, case: str) -> None:
    args, message = BAD[case]
    services = build_services(Settings(db, Path(".")))
    before = snapshot(services)
    code, out, err = cli(db, *args)
    assert (code, out) == (2, "")
    assert err.startswith("error:")
    assert message in err
    assert snapshot(services) == before
    services.uow.engine.dispose()  # type: ignore[attr-defined]
