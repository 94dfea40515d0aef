"""Orders through the API on both stores: check-and-reserve, ingest, ship, cancel, return."""

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


@pytest.fixture
def shop(api: Api) -> Api:
    for path, body in (
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse"}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee, medium"}),
        ("/v1/channels", {"code": "WEB", "kind": "shopify", "locations": ["WH1"]}),
        ("/v1/listings", {"channel": "WEB", "listing": "tee", "sku": "TEE-M"}),
    ):
        assert api.post(path, json=body).status_code == 201
    api.post("/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 5})
    return api


def order(external_id: str, quantity: int) -> dict[str, Any]:
    return {
        "channel": "WEB",
        "external_id": external_id,
        "lines": [{"listing": "tee", "quantity": quantity}],
    }


def stock(api: Api) -> tuple[int, int, int]:
    row = api.get("/v1/items/TEE-M/stock").json()[0]
    return row["on_hand"], row["committed"], row["available"]


def test_an_order_that_fits_is_accepted_with_201_and_committed(shop: Api) -> None:
    accepted = shop.post("/v1/orders/reserve", json=order("1001", 3), role="operator")
    assert accepted.status_code == 201
    body = accepted.json()
    assert (body["status"], body["kind"]) == ("open", "reserve")
    assert body["lines"][0]["commitments"] == [
        {"sku": "TEE-M", "location": "WH1", "committed": 3, "shipped": 0, "returned": 0}
    ]
    assert stock(shop) == (5, 3, 2)
    again = shop.post("/v1/orders/reserve", json=order("1001", 3), role="operator")
    assert (again.status_code, again.json()) == (200, body)


def test_an_order_that_does_not_fit_is_refused_with_409_and_its_shortfall(shop: Api) -> None:
    before = {k: v for k, v in snapshot(shop.services).items() if k not in QUIET}
    refused = shop.post("/v1/orders/reserve", json=order("1002", 6), role="operator")
    body = problem(refused, 409, "insufficient-stock")
    assert body["shortfall"] == [{"listing": "tee", "asked": 6, "available": 5}]
    assert {k: v for k, v in snapshot(shop.services).items() if k not in QUIET} == before
    bad = shop.post("/v1/orders/reserve", json=order("1003", 0), role="operator")
    assert problem(bad, 422, "validation")["errors"][0]["loc"] == ["body", "lines", 0, "quantity"]


def test_an_order_is_shipped_returned_and_cancelled(shop: Api) -> None:
    shop.post("/v1/orders/reserve", json=order("1004", 3), role="operator")
    path = "/v1/orders/WEB/1004"
    ship = {"lines": [{"line": 1, "quantity": 2}], "reference": "shipment-1"}
    assert shop.post(f"{path}/ship", json=ship, role="operator").json()["lines"][0]["shipped"] == 2
    assert stock(shop) == (3, 1, 2)
    returned = shop.post(f"{path}/return", json={"damaged": True}, role="operator").json()
    assert returned["lines"][0]["returned"] == 2
    cancelled = shop.post(f"{path}/cancel", json={}, role="operator").json()
    assert (cancelled["status"], stock(shop)) == ("shipped", (5, 0, 3))
    assert shop.get(path, role="viewer").json() == cancelled
    assert [o["external_id"] for o in shop.get("/v1/orders", role="viewer").json()["data"]] == [
        "1004"
    ]
    problem(shop.get("/v1/orders/WEB/nope"), 404, "not-found")


def test_an_integration_ingests_a_channel_order_and_oversold_units_are_exceptions(
    shop: Api,
) -> None:
    note = {
        "kind": "create",
        "channel": "WEB",
        "external_id": "M-1",
        "updated_at": "2026-03-02T09:00:00Z",
        "lines": [{"listing": "tee", "quantity": 7}],
    }
    result = shop.post("/v1/orders/ingest", json=note, role="integration")
    assert result.status_code == 200, result.text
    assert (result.json()["action"], result.json()["order"]["lines"][0]["missing"]) == (
        "created",
        2,
    )
    again = shop.post("/v1/orders/ingest", json=note, role="integration").json()
    assert again["action"] == "ignored"
    exceptions = shop.get("/v1/orders/exceptions", role="viewer").json()["data"]
    assert [(x["external_id"], x["missing"]) for x in exceptions] == [("M-1", 2)]
    problem(
        shop.post("/v1/orders/reserve", json=order("x", 1), role="integration"), 403, "forbidden"
    )


def test_order_pages_neither_repeat_nor_skip_when_orders_arrive_between_them(shop: Api) -> None:
    for n in range(5):
        assert shop.post("/v1/orders/reserve", json=order(f"p-{n}", 1)).status_code == 201
    first = shop.get("/v1/orders?limit=2", role="viewer").json()
    assert [o["external_id"] for o in first["data"]] == ["p-4", "p-3"]
    late = {**order("late", 1), "kind": "create", "updated_at": "2026-03-02T09:00:00Z"}
    assert shop.post("/v1/orders/ingest", json=late).status_code in (200, 201)
    assert shop.get("/v1/orders?limit=1", role="viewer").json()["data"][0]["external_id"] == "late"
    seen = [o["external_id"] for o in first["data"]]
    cursor = first["next_cursor"]
    while cursor is not None:
        page = shop.get(f"/v1/orders?limit=2&cursor={cursor}", role="viewer").json()
        seen += [o["external_id"] for o in page["data"]]
        cursor = page["next_cursor"]
    assert seen == ["p-4", "p-3", "p-2", "p-1", "p-0"]
    bad = shop.get("/v1/orders?cursor=not-ours", role="viewer")
    assert bad.status_code == 422


def audit_of(api: Api) -> list[dict[str, Any]]:
    return list(api.get("/v1/audit?limit=100", role="viewer").json()["data"])


def test_each_reservation_is_audited_once_in_its_own_transaction(shop: Api) -> None:
    before = len(audit_of(shop))
    headers = {"X-Request-ID": "res-1"}
    accepted = shop.post("/v1/orders/reserve", json=order("2001", 2), headers=headers)
    refused = shop.post("/v1/orders/reserve", json=order("2002", 9), role="operator")
    unknown = shop.post("/v1/orders/reserve", json=dict(order("2003", 1), channel="NOPE"))
    assert (accepted.status_code, refused.status_code, unknown.status_code) == (201, 409, 404)
    entries = audit_of(shop)
    assert len(entries) == before + 3  # one entry per request, none twice
    last_unknown, last_refused, last_accepted = entries[:3]
    assert (last_accepted["path"], last_accepted["status"]) == ("/v1/orders/reserve", 201)
    assert last_accepted["request_id"] == "res-1"
    assert last_accepted["after"] == accepted.json()
    assert last_refused["status"] == 409
    assert last_refused["after"]["shortfall"] == [{"listing": "tee", "asked": 9, "available": 3}]
    assert last_refused["actor"] == "operator key"
    assert last_unknown["status"] == 404


def test_a_reservation_retried_with_its_idempotency_key_gets_the_first_answer(shop: Api) -> None:
    headers = {"Idempotency-Key": "res-key-1"}
    first = shop.post("/v1/orders/reserve", json=order("3001", 1), headers=headers)
    again = shop.post("/v1/orders/reserve", json=order("3001", 1), headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert stock(shop) == (5, 1, 4)
    refused = shop.post(
        "/v1/orders/reserve", json=order("3002", 9), headers={"Idempotency-Key": "k2"}
    )
    replayed = shop.post(
        "/v1/orders/reserve", json=order("3002", 9), headers={"Idempotency-Key": "k2"}
    )
    assert (refused.status_code, replayed.status_code) == (409, 409)
    assert replayed.content == refused.content
    reused = shop.post("/v1/orders/reserve", json=order("3003", 1), headers=headers)
    problem(reused, 422, "idempotency-key-reused")
    assert stock(shop) == (5, 1, 4)


def test_a_reservation_whose_transaction_fails_leaves_no_accepted_entry(
    shop: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stockpool.services import reservations

    def fail(uow: object, app: object) -> None:
        raise RuntimeError("the disk is full")

    before = len(audit_of(shop))
    monkeypatch.setattr(reservations, "record_stock_change", fail)
    failed = shop.post("/v1/orders/reserve", json=order("4001", 1))
    monkeypatch.undo()
    assert failed.status_code == 500
    entries = audit_of(shop)
    assert [e["status"] for e in entries[: len(entries) - before]] == [500]  # nothing else
    assert stock(shop) == (5, 0, 5)
    assert shop.get("/v1/orders/WEB/4001").status_code == 404
