"""Transfers, suppliers, purchase orders, counts, CSV files and verify through the API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stockpool.services.context import Services
from tests.apiclient import Api, make_api, problem


@pytest.fixture
def api(app: Services) -> Iterator[Api]:
    yield from make_api(app)


@pytest.fixture
def shop(api: Api) -> Api:
    for path, body in (
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse"}),
        ("/v1/locations", {"code": "WH2", "name": "East", "kind": "3pl"}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee, medium", "unit_cost": "2"}),
        ("/v1/suppliers", {"code": "ACME", "name": "Acme", "lead_time_days": 10}),
    ):
        assert api.post(path, json=body).status_code == 201
    api.post("/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 10})
    return api


def on_hand(api: Api) -> dict[str, tuple[int, int]]:
    rows = api.get("/v1/items/TEE-M/stock").json()
    return {r["location"]: (r["on_hand"], r["incoming"]) for r in rows}


def test_a_transfer_is_shipped_received_in_part_and_cancelled(shop: Api) -> None:
    body = {"from": "WH1", "to": "WH2", "lines": [{"sku": "TEE-M", "quantity": 4}]}
    shipped = shop.post("/v1/transfers", json=body, role="operator").json()
    assert (shipped["from"], shipped["to"], shipped["status"]) == ("WH1", "WH2", "in_transit")
    part = {"lines": [{"sku": "TEE-M", "quantity": 1}]}
    path = f"/v1/transfers/{shipped['id']}"
    assert (
        shop.post(f"{path}/receive", json=part, role="operator").json()["lines"][0]["received"] == 1
    )
    assert shop.post(f"{path}/cancel", role="operator").json()["status"] == "received"
    assert on_hand(shop) == {"WH1": (9, 0), "WH2": (1, 0)}
    listed = shop.get("/v1/transfers?status=received", role="viewer").json()["data"]
    assert [t["id"] for t in listed] == [shipped["id"]]
    problem(shop.get("/v1/transfers/999"), 404, "not-found")
    problem(shop.post(f"{path}/cancel", role="operator"), 409, "conflict")


def test_a_purchase_order_goes_from_draft_to_received(shop: Api) -> None:
    shop.put("/v1/suppliers/ACME/terms/TEE-M", json={"unit_cost": "1.5", "moq": 10})
    draft = shop.post(
        "/v1/purchase-orders",
        json={"supplier": "ACME", "location": "WH1", "lines": [{"sku": "TEE-M", "quantity": 6}]},
        role="operator",
    ).json()
    assert (draft["status"], draft["lines"][0]["unit_cost"]) == ("draft", "1.5000")
    assert draft["warnings"] == ["TEE-M: 6 is below the MOQ of 10"]
    path = f"/v1/purchase-orders/{draft['id']}"
    assert shop.post(f"{path}/open", json={}, role="operator").json()["status"] == "open"
    assert on_hand(shop) == {"WH1": (10, 6)}
    receipt = {"lines": [{"sku": "TEE-M", "quantity": 6}]}
    assert shop.post(f"{path}/receive", json=receipt, role="operator").json()["status"] == (
        "received"
    )
    assert on_hand(shop) == {"WH1": (16, 0)}
    times = shop.get("/v1/suppliers/ACME/lead-times/TEE-M").json()
    assert (times["supplier"], len(times["days"])) == ("ACME", 1)
    assert [t["sku"] for t in shop.get("/v1/suppliers/ACME/terms").json()["data"]] == ["TEE-M"]
    assert [p["id"] for p in shop.get("/v1/purchase-orders?status=received").json()["data"]] == [
        draft["id"]
    ]
    problem(shop.post(f"{path}/cancel", role="operator"), 409, "conflict")
    problem(shop.get("/v1/purchase-orders?status=nope"), 422, "validation")


def test_a_count_file_is_uploaded_and_its_big_variance_approved(shop: Api) -> None:
    csv = b"sku,location,counted\nTEE-M,WH1,40\n"
    made = shop.post("/v1/counts", files={"file": ("count.csv", csv, "text/csv")}, role="operator")
    assert made.status_code == 201, made.text
    count = made.json()
    assert [(x["variance"], x["status"]) for x in count["lines"]] == [(30, "pending_approval")]
    approved = shop.post(f"/v1/counts/{count['id']}/approve", json={}, role="operator").json()
    assert [x["status"] for x in approved["lines"]] == ["posted"]
    assert on_hand(shop) == {"WH1": (40, 0)}
    assert [c["id"] for c in shop.get("/v1/counts").json()["data"]] == [count["id"]]


def test_imports_take_csv_uploads_and_refuse_bad_rows_whole(shop: Api) -> None:
    good = b"sku,title\nSOCK,Socks\nCAP,Cap\n"
    report = shop.post("/v1/imports/items", files={"file": ("items.csv", good, "text/csv")})
    assert report.json() == {"rows": 2, "imported": 2, "unchanged": 0, "skipped": []}
    bad = b"sku,location,on_hand\nTEE-M,WH1,5\nNOPE,WH1,x\n"
    refused = shop.post(
        "/v1/imports/stock", files={"file": ("stock.csv", bad, "text/csv")}, role="operator"
    )
    body = problem(refused, 422, "validation")
    assert body["errors"] == [
        {
            "loc": ["body", "file", 3, "on_hand"],
            "msg": "on_hand must be a whole number of units, got 'x'",
        }
    ]
    assert on_hand(shop) == {"WH1": (10, 0)}
    problem(
        shop.post(
            "/v1/imports/items", files={"file": ("i.csv", good, "text/csv")}, role="operator"
        ),
        403,
        "forbidden",
    )
    exported = shop.get("/v1/exports/items", role="viewer")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    assert exported.text.splitlines()[0] == "\ufeffsku,title,barcode,unit_cost,price,tags,archived"
    assert shop.get("/v1/verify", role="viewer").json() == {
        "levels_checked": 1,
        "clean": True,
        "differences": [],
        "invariant_violations": [],
    }
