"""Events, channel webhooks in and outgoing webhook bookkeeping, on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping

import pytest

from stockpool.domain.events import InboundDelivery, sign, signature_matches
from stockpool.services import webhooks_in, webhooks_out
from stockpool.services.context import Services
from stockpool.services.webhooks_in import BadSignature, WebhookRegistry
from tests.apiclient import Api, make_api, problem

SECRET = "test-secret-0123456789"
handled: list[str] = []


def verify(headers: Mapping[str, str], body: bytes) -> str:
    """A test channel's scheme: X-Test-Signature is the HMAC of the body."""
    if not signature_matches(SECRET, body, headers.get("x-test-signature", "")):
        raise BadSignature("the X-Test-Signature does not match the body")
    return str(json.loads(body)["id"])


def handle(app: Services, delivery: InboundDelivery) -> None:
    handled.append(delivery.dedupe_key)
    if delivery.dedupe_key == "fails":
        raise RuntimeError("cannot process")


@pytest.fixture
def api(app: Services) -> Iterator[Api]:
    registry = WebhookRegistry(verifiers={"test": verify}, handlers={"test": handle})
    yield from make_api(app, webhooks=registry)


@pytest.fixture
def shop(api: Api) -> Api:
    for path, body in (
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse"}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee, medium"}),
        ("/v1/items", {"sku": "CAP", "title": "Cap"}),
        ("/v1/channels", {"code": "WEB", "kind": "shopify", "locations": ["WH1"]}),
        ("/v1/listings", {"channel": "WEB", "listing": "tee", "sku": "TEE-M"}),
    ):
        assert api.post(path, json=body).status_code == 201
    return api


def test_a_stock_change_records_stock_and_ats_events_in_order(shop: Api) -> None:
    shop.post("/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 4})
    shop.post("/v1/stock/receive", json={"sku": "CAP", "location": "WH1", "quantity": 1})
    found = shop.get("/v1/events", role="viewer").json()["data"]
    assert [(e["id"], e["type"], e["item"], e["channel"]) for e in found] == [
        (1, "stock.changed", "TEE-M", None),
        (2, "ats.changed", "TEE-M", "WEB"),
        (3, "stock.changed", "CAP", None),
    ]
    assert found[1]["payload"] == {
        "channel": "WEB",
        "listing": "tee",
        "sku": "TEE-M",
        "ats": 4,
        "version": 1,
    }
    only = shop.get("/v1/events?channel=WEB&type=ats.changed", role="viewer").json()["data"]
    assert [e["id"] for e in only] == [2]
    page = shop.get("/v1/events?limit=2", role="viewer").json()
    rest = shop.get(f"/v1/events?cursor={page['next_cursor']}", role="viewer").json()
    assert [e["id"] for e in rest["data"]] == [3]
    assert [e["id"] for e in shop.get("/v1/events?after=2", role="viewer").json()["data"]] == [3]
    problem(shop.get("/v1/events?type=nope", role="viewer"), 422, "validation")


def test_a_channel_webhook_is_verified_stored_once_and_processed_later(shop: Api) -> None:
    body = json.dumps({"id": 77}).encode()
    headers = {"X-Test-Signature": sign(SECRET, body), "Content-Type": "application/json"}
    first = shop.post("/webhooks/test", content=body, headers=headers, role=None)
    again = shop.post("/webhooks/test", content=body, headers=headers, role=None)
    assert (first.status_code, first.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()) == (202, {"id": first.json()["id"], "duplicate": True})
    stored = webhooks_in.get_delivery(shop.services, first.json()["id"])
    assert (stored.body, stored.processed_at) == (body, None)
    assert stored.headers["x-test-signature"] == headers["X-Test-Signature"]
    handled.clear()
    assert webhooks_in.process_pending(shop.services, shop.app.state.settings.webhooks) == 1
    assert handled == ["77"]
    assert webhooks_in.get_delivery(shop.services, first.json()["id"]).processed_at is not None


def test_a_channel_webhook_with_a_bad_signature_or_unknown_kind_is_refused(shop: Api) -> None:
    body = json.dumps({"id": 78}).encode()
    bad = shop.post("/webhooks/test", content=body, headers={"X-Test-Signature": "x"}, role=None)
    problem(bad, 401, "bad-signature")
    problem(shop.post("/webhooks/nope", content=body, role=None), 404, "not-found")
    problem(shop.post("/webhooks/test", content=body, role="viewer"), 403, "forbidden")
    with pytest.raises(Exception, match="unknown webhook delivery 1"):
        webhooks_in.get_delivery(shop.services, 1)


def test_outgoing_deliveries_are_planned_signed_retried_and_logged(shop: Api) -> None:
    made = shop.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "event_types": ["ats.changed"], "secret": SECRET},
    )
    assert made.status_code == 201
    hook = made.json()
    assert "secret" not in hook
    shop.post("/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 2})
    assert webhooks_out.plan_deliveries(shop.services) == 1
    (request,) = webhooks_out.claim_due(shop.services)
    assert signature_matches(SECRET, request.body, request.headers["X-Stockpool-Signature"])
    assert json.loads(request.body)["type"] == "ats.changed"
    assert webhooks_out.claim_due(shop.services) == []
    failed = webhooks_out.record_result(
        shop.services,
        request.delivery_id,
        response_status=500,
        error="answered 500",
        backoff_seconds=5,
    )
    assert (failed.status.value, failed.attempts) == ("pending", 1)
    log = shop.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["data"]
    assert [(d["status"], d["attempts"], d["response_status"]) for d in log] == [
        ("pending", 1, 500)
    ]
    assert shop.delete(f"/v1/webhooks/{hook['id']}").json()["active"] is False
    problem(
        shop.post(
            "/v1/webhooks",
            json={"url": "ftp://x", "event_types": ["ats.changed"], "secret": SECRET},
        ),
        422,
        "validation",
    )
