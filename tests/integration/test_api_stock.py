"""The stock endpoints on both stores: operations, reads, and bad input that changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stockpool.services.context import Services
from tests.apiclient import Api, make_api, problem
from tests.dbsnapshot import snapshot

QUIET = {"audit_log", "idempotency_keys", "api_keys"}


@pytest.fixture
def api(app: Services) -> Iterator[Api]:
    yield from make_api(app)


def business(app: Services) -> dict[str, Any]:
    """Every table but those the API itself writes on every request."""
    return {k: v for k, v in snapshot(app).items() if k not in QUIET}


@pytest.fixture
def shop(api: Api) -> Api:
    for path, body in (
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse"}),
        ("/v1/locations", {"code": "WH2", "name": "East", "kind": "3pl"}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee, medium"}),
    ):
        assert api.post(path, json=body).status_code == 201
    receipt = {"sku": "TEE-M", "location": "WH1", "quantity": 10}
    assert api.post("/v1/stock/receive", json=receipt, role="operator").status_code == 200
    return api


def level(on_hand: int, available: int, **held: int) -> dict[str, Any]:
    unavailable = {"damaged": 0, "quality_control": 0, "safety_stock": 0, "hold": 0, **held}
    return {
        "location": "WH1",
        "on_hand": on_hand,
        "committed": 0,
        "unavailable": unavailable,
        "available": available,
        "incoming": 0,
    }


def test_every_stock_operation_answers_the_new_level(shop: Api) -> None:
    steps = [
        ("/v1/stock/adjust", {"sku": "TEE-M", "location": "WH1", "delta": -2, "reason": "lost"}),
        ("/v1/stock/damage", {"sku": "TEE-M", "location": "WH1", "quantity": 2}),
        ("/v1/stock/hold", {"sku": "TEE-M", "location": "WH1", "quantity": 1, "reason": "hold"}),
        (
            "/v1/stock/release",
            {"sku": "TEE-M", "location": "WH1", "quantity": 1, "from": "damaged"},
        ),
    ]
    answers = [shop.post(path, json=body, role="operator").json() for path, body in steps]
    assert answers == [
        level(8, 8),
        level(8, 6, damaged=2),
        level(8, 5, damaged=2, hold=1),
        level(8, 6, damaged=1, hold=1),
    ]
    counted = shop.post(
        "/v1/stock/count",
        json={"sku": "TEE-M", "location": "WH1", "counted": 9},
        role="operator",
    )
    assert counted.json() == {"counted": 9, "variance": 1, "level": level(9, 7, damaged=1, hold=1)}


def test_stock_of_an_item_has_the_fields_of_stock_show_json(shop: Api) -> None:
    assert shop.get("/v1/items/TEE-M/stock", role="viewer").json() == [level(10, 10)]


def test_movements_are_listed_newest_first_a_page_at_a_time(shop: Api) -> None:
    shop.post(
        "/v1/stock/adjust",
        json={"sku": "TEE-M", "location": "WH1", "delta": 1, "reason": "found"},
        role="operator",
    )
    first = shop.get("/v1/items/TEE-M/movements?limit=1", role="viewer").json()
    assert [(m["kind"], m["quantity"]) for m in first["data"]] == [("adjustment", 1)]
    second = shop.get(
        f"/v1/items/TEE-M/movements?limit=1&cursor={first['next_cursor']}", role="viewer"
    ).json()
    assert [(m["kind"], m["quantity"], m["actor"]) for m in second["data"]] == [
        ("receipt", 10, "key:2:operator key")
    ]
    assert second["next_cursor"] is None


BAD: dict[str, tuple[str, dict[str, Any], int, str, list[Any] | None]] = {
    "unknown sku": (
        "/v1/stock/receive",
        {"sku": "NOPE", "location": "WH1", "quantity": 1},
        404,
        "not-found",
        None,
    ),
    "unknown location": (
        "/v1/stock/receive",
        {"sku": "TEE-M", "location": "NOWHERE", "quantity": 1},
        404,
        "not-found",
        None,
    ),
    "negative quantity": (
        "/v1/stock/receive",
        {"sku": "TEE-M", "location": "WH1", "quantity": -3},
        422,
        "validation",
        ["body", "quantity"],
    ),
    "fractional quantity": (
        "/v1/stock/receive",
        {"sku": "TEE-M", "location": "WH1", "quantity": 1.5},
        422,
        "validation",
        ["body", "quantity"],
    ),
    "quantity of the wrong type": (
        "/v1/stock/damage",
        {"sku": "TEE-M", "location": "WH1", "quantity": "two"},
        422,
        "validation",
        ["body", "quantity"],
    ),
    "a field that does not exist": (
        "/v1/stock/receive",
        {"sku": "TEE-M", "location": "WH1", "quantity": 1, "qty": 1},
        422,
        "validation",
        ["body", "qty"],
    ),
    "loss larger than available": (
        "/v1/stock/adjust",
        {"sku": "TEE-M", "location": "WH1", "delta": -11, "reason": "lost"},
        409,
        "insufficient-stock",
        None,
    ),
    "release of units not held": (
        "/v1/stock/release",
        {"sku": "TEE-M", "location": "WH1", "quantity": 1, "from": "hold"},
        409,
        "insufficient-stock",
        None,
    ),
    "hold for an unknown reason": (
        "/v1/stock/hold",
        {"sku": "TEE-M", "location": "WH1", "quantity": 1, "reason": "lunch"},
        422,
        "validation",
        ["body", "reason"],
    ),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_stock_requests_are_refused_and_change_nothing(shop: Api, case: str) -> None:
    path, body, status, kind, loc = BAD[case]
    before = business(shop.services)
    body_json = problem(shop.post(path, json=body, role="operator"), status, kind)
    assert business(shop.services) == before
    if loc is not None:
        assert [e["loc"] for e in body_json["errors"]] == [loc]


def test_stock_of_an_unknown_item_is_not_found(shop: Api) -> None:
    body = problem(shop.get("/v1/items/NOPE/stock", role="viewer"), 404, "not-found")
    assert body["detail"] == "unknown SKU 'NOPE': add it with `stockpool item add`"
    assert body["instance"] == "/v1/items/NOPE/stock"


def test_a_body_that_is_not_json_is_a_validation_problem(shop: Api) -> None:
    response = shop.post(
        "/v1/stock/receive",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        role="operator",
    )
    problem(response, 422, "validation")
