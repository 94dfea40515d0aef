"""Keys, roles, the audit log and idempotent retries, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stockpool.services import access
from stockpool.services.context import Services
from tests.apiclient import Api, make_api, problem
from tests.dbsnapshot import snapshot

QUIET = {"audit_log", "idempotency_keys", "api_keys"}
RECEIPT = {"sku": "TEE-M", "location": "WH1", "quantity": 2}

# One operation per permission, and the roles that may do it.
MATRIX: list[tuple[str, str, dict[str, Any] | None, set[str]]] = [
    ("GET", "/v1/items", None, {"admin", "operator", "viewer"}),
    ("GET", "/v1/items/TEE-M/ats", None, {"admin", "operator", "viewer"}),
    ("GET", "/v1/audit", None, {"admin", "operator", "viewer"}),
    ("POST", "/v1/stock/receive", RECEIPT, {"admin", "operator"}),
    (
        "POST",
        "/v1/transfers",
        {"from": "WH1", "to": "WH2", "lines": [{"sku": "TEE-M", "quantity": 1}]},
        {"admin", "operator"},
    ),
    ("POST", "/v1/items", {"sku": "NEW", "title": "New"}, {"admin"}),
    ("POST", "/v1/channels", {"code": "WEB", "kind": "shopify", "locations": ["WH1"]}, {"admin"}),
    ("POST", "/v1/rules", {"buffer": 1, "dry_run": True}, {"admin"}),
    ("GET", "/v1/keys", None, {"admin"}),
    ("GET", "/v1/webhooks", None, {"admin"}),
    (
        "POST",
        "/v1/orders/ingest",
        {
            "kind": "create",
            "channel": "NONE",
            "external_id": "1",
            "updated_at": "2026-03-02T09:00:00Z",
        },
        {"admin", "operator", "integration"},
    ),
]


@pytest.fixture
def api(app: Services) -> Iterator[Api]:
    yield from make_api(app)


@pytest.fixture
def shop(api: Api) -> Api:
    for path, body in (
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse"}),
        ("/v1/locations", {"code": "WH2", "name": "East", "kind": "3pl"}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee, medium"}),
        ("/v1/stock/receive", {"sku": "TEE-M", "location": "WH1", "quantity": 10}),
    ):
        assert api.post(path, json=body).status_code in (200, 201)
    return api


def business(shop: Api) -> dict[str, Any]:
    return {k: v for k, v in snapshot(shop.services).items() if k not in QUIET}


def test_each_role_may_do_exactly_what_it_is_granted(shop: Api) -> None:
    for method, path, body, allowed in MATRIX:
        for role in ("viewer", "operator", "integration", "admin"):
            before = business(shop)
            response = shop.request(method, path, role=role, json=body)
            if role in allowed:
                assert response.status_code not in (401, 403), (method, path, role)
            else:
                problem(response, 403, "forbidden")
                assert business(shop) == before, (method, path, role)


def test_requests_without_a_working_key_are_unauthorized(shop: Api) -> None:
    before = business(shop)
    for headers in ({}, {"Authorization": "Bearer sp_wrong"}, {"Authorization": "Basic abc"}):
        response = shop.post("/v1/stock/receive", json=RECEIPT, role=None, headers=headers)
        problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
        problem(shop.get("/v1/items", role=None, headers=headers), 401, "unauthorized")
    assert business(shop) == before
    assert shop.get("/health", role=None).json() == {"status": "ok"}


def test_a_revoked_key_is_refused_and_keys_are_never_shown_again(shop: Api) -> None:
    created = shop.post("/v1/keys", json={"role": "viewer", "name": "tablet"})
    assert created.status_code == 201
    new = created.json()
    assert (new["key"][:3], len(new["key"])) == ("sp_", 46)
    assert (
        shop.get(
            "/v1/items", role=None, headers={"Authorization": f"Bearer {new['key']}"}
        ).status_code
        == 200
    )
    listed = shop.get("/v1/keys").json()["data"]
    assert [(k["name"], k["role"]) for k in listed][-1] == ("tablet", "viewer")
    assert all("key" not in k for k in listed)
    assert shop.delete(f"/v1/keys/{new['id']}").json()["revoked_at"] is not None
    refused = shop.get("/v1/items", role=None, headers={"Authorization": f"Bearer {new['key']}"})
    problem(refused, 401, "unauthorized")
    assert access.authenticate(shop.services, new["key"]) is None


def test_every_write_is_audited_with_who_what_and_the_request_id(shop: Api) -> None:
    shop.patch("/v1/items/TEE-M", json={"title": "Tee M"}, headers={"X-Request-ID": "req-42"})
    shop.post("/v1/stock/receive", json=RECEIPT, role="viewer")
    entries = shop.get("/v1/audit?limit=2", role="viewer").json()
    refused, patched = entries["data"]
    assert (refused["method"], refused["path"], refused["status"], refused["actor"]) == (
        "POST",
        "/v1/stock/receive",
        403,
        "viewer key",
    )
    assert (patched["method"], patched["resource"], patched["request_id"]) == (
        "PATCH",
        "sku=TEE-M",
        "req-42",
    )
    assert patched["before"]["title"] == "Tee, medium"
    assert patched["after"]["title"] == "Tee M"
    older = shop.get(f"/v1/audit?limit=2&cursor={entries['next_cursor']}", role="viewer").json()
    assert [e["path"] for e in older["data"]] == ["/v1/stock/receive", "/v1/items"]
    only = shop.get("/v1/audit?method=PATCH", role="viewer").json()["data"]
    assert [e["request_id"] for e in only] == ["req-42"]


def test_the_request_id_is_echoed_or_made(shop: Api) -> None:
    given = shop.get("/v1/items", headers={"X-Request-ID": "abc-1"})
    assert given.headers["x-request-id"] == "abc-1"
    made = shop.get("/v1/items")
    assert len(made.headers["x-request-id"]) == 32


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(shop: Api) -> None:
    headers = {"Idempotency-Key": "receipt-1"}
    first = shop.post("/v1/stock/receive", json=RECEIPT, role="operator", headers=headers)
    again = shop.post("/v1/stock/receive", json=RECEIPT, role="operator", headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert shop.get("/v1/items/TEE-M/stock").json()[0]["on_hand"] == 12
    other = dict(RECEIPT, quantity=3)
    before = business(shop)
    reused = shop.post("/v1/stock/receive", json=other, role="operator", headers=headers)
    problem(reused, 422, "idempotency-key-reused")
    assert business(shop) == before


def test_idempotency_keys_belong_to_one_api_key(shop: Api) -> None:
    headers = {"Idempotency-Key": "same"}
    shop.post("/v1/stock/receive", json=RECEIPT, role="operator", headers=headers)
    shop.post("/v1/stock/receive", json=RECEIPT, role="admin", headers=headers)
    assert shop.get("/v1/items/TEE-M/stock").json()[0]["on_hand"] == 14


def test_a_refused_request_is_replayed_as_refused(shop: Api) -> None:
    headers = {"Idempotency-Key": "bad-1"}
    body = dict(RECEIPT, sku="NOPE")
    first = shop.post("/v1/stock/receive", json=body, role="operator", headers=headers)
    again = shop.post("/v1/stock/receive", json=body, role="operator", headers=headers)
    problem(first, 404, "not-found")
    assert (again.status_code, again.json()["detail"]) == (404, first.json()["detail"])


def test_bodies_over_the_limit_are_refused_with_413(shop: Api) -> None:
    huge = b'{"sku": "' + b"x" * (1024 * 1024) + b'"}'
    before = business(shop)
    response = shop.post("/v1/items", content=huge, headers={"Content-Type": "application/json"})
    problem(response, 413, "payload-too-large")
    assert business(shop) == before
