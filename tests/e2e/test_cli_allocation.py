"""The allocation commands in the exact forms other tools script against."""

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
        ("location", "add", "WH1", "--name", "Main", "--kind", "warehouse"),
        ("location", "add", "WH2", "--name", "East", "--kind", "3pl"),
        ("item", "add", "TEE", "--title", "Tee"),
        ("item", "add", "CAP", "--title", "Cap"),
        ("stock", "receive", "TEE", "WH1", "30"),
        ("stock", "receive", "TEE", "WH2", "11"),
        ("stock", "receive", "CAP", "WH1", "5"),
        (
            "channel",
            "add",
            "shop",
            "--kind",
            "shopify",
            "--locations",
            "WH1,WH2",
            "--priority",
            "1",
        ),
        ("channel", "add", "amzn", "--kind", "amazon", "--locations", "WH1", "--priority", "2"),
        ("bundle", "add", "KIT", "--component", "TEE:2", "--component", "CAP:1"),
        ("listing", "add", "shop", "TEE-1", "TEE"),
        ("listing", "add", "shop", "TEE-6", "TEE", "--units", "6"),
        ("listing", "add", "shop", "KIT-1", "KIT"),
        ("listing", "add", "amzn", "A-TEE", "TEE"),
    ):
        code, _, err = cli(url, *args)
        assert code == 0, (args, err)
    return url


def test_ats_show_json_lists_every_listing_with_its_explanation(db: str) -> None:
    code, out, _ = cli(db, "rule", "set", "--channel", "amzn", "--buffer", "2", "--percent", "50")
    assert code == 0
    code, out, _ = cli(db, "ats", "show", "TEE", "--json")
    assert code == 0
    shown = json.loads(out)
    assert [(x["channel"], x["listing"], x["ats"]) for x in shown] == [
        ("shop", "TEE-1", 41),
        ("shop", "TEE-6", 6),
        ("amzn", "A-TEE", 14),
    ]
    assert shown[2]["explanation"] == [
        {
            "step": "pool",
            "value": 30,
            "rule": "available at WH1 (channel amzn)",
            "level": "channel",
        },
        {"step": "protections", "value": 30, "rule": None, "level": None},
        {"step": "units", "value": 30, "rule": None, "level": None},
        {"step": "buffer", "value": 28, "rule": "channel amzn", "level": "channel"},
        {"step": "percent", "value": 14, "rule": "channel amzn", "level": "channel"},
        {"step": "max", "value": 14, "rule": None, "level": None},
        {"step": "floor", "value": 14, "rule": None, "level": None},
        {"step": "non_negative", "value": 14, "rule": None, "level": None},
    ]
    code, out, _ = cli(db, "ats", "explain", "amzn", "A-TEE", "--json")
    assert json.loads(out) == [shown[2]]


def test_rule_set_dry_run_prints_before_and_after_and_saves_nothing(db: str) -> None:
    services = build_services(Settings(database_url=db, data_dir=Path(".")))
    before = snapshot(services)
    code, out, _ = cli(
        db,
        "rule",
        "set",
        "--channel",
        "shop",
        "--sku",
        "TEE",
        "--protect",
        "35",
        "--dry-run",
        "--json",
    )
    assert code == 0
    effect = json.loads(out)
    assert effect["saved"] is False
    assert {"channel": "amzn", "listing": "A-TEE", "before": 30, "after": 6} in effect["effect"]
    assert snapshot(services) == before
    code, out, _ = cli(
        db,
        "rule",
        "set",
        "--channel",
        "shop",
        "--sku",
        "TEE",
        "--protect",
        "35",
        "--max",
        "40",
        "--floor",
        "2",
        "--reason",
        "launch",
    )
    assert code == 0
    code, out, _ = cli(db, "listing", "list", "--json")
    assert {(x["listing"], x["ats"]) for x in json.loads(out)} == {
        ("TEE-1", 40),
        ("TEE-6", 6),
        ("KIT-1", 5),
        ("A-TEE", 6),
    }
    code, out, _ = cli(db, "rule", "history", "--json")
    assert json.loads(out)[0]["reason"] == "launch"


BAD = {
    "percent above 100": (
        ("rule", "set", "--channel", "shop", "--percent", "150"),
        "percent must be within 0-100",
    ),
    "negative buffer": (("rule", "set", "--channel", "shop", "--buffer", "-1"), "whole number"),
    "fractional max": (("rule", "set", "--channel", "shop", "--max", "2.5"), "whole number"),
    "unknown channel": (
        ("rule", "set", "--channel", "nope", "--buffer", "1"),
        "unknown channel 'nope'",
    ),
    "unknown location": (
        ("channel", "add", "eb", "--kind", "ebay", "--locations", "XX"),
        "unknown location 'XX'",
    ),
    "self bundle": (("bundle", "add", "LOOP", "--component", "LOOP:1"), "bundle cycle"),
    "deep cycle": (("bundle", "update", "KIT", "--component", "KIT:1"), "bundle cycle"),
    "listing of nothing": (("listing", "add", "shop", "Z", "GHOST"), "unknown SKU 'GHOST'"),
    "bad units": (("listing", "add", "shop", "Z", "TEE", "--units", "0"), "at least 1"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_allocation_input_exits_2_and_saves_nothing(db: str, case: str) -> None:
    args, message = BAD[case]
    services = build_services(Settings(database_url=db, data_dir=Path(".")))
    before = snapshot(services)
    code, _, err = cli(db, *args)
    assert code == 2
    assert message in err
    assert snapshot(services) == before
