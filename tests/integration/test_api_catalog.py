"""Catalog, channels, listings, bundles, rules and ATS through the API, on both stores."""

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
    steps = [
        ("/v1/locations", {"code": "WH1", "name": "Main", "kind": "warehouse", "priority": 1}),
        ("/v1/locations", {"code": "WH2", "name": "East", "kind": "3pl", "priority": 2}),
        ("/v1/items", {"sku": "TEE-M", "title": "Tee M", "unit_cost": "4.5", "tags": ["tees"]}),
        ("/v1/items", {"sku": "TEE-L", "title": "Tee L"}),
        ("/v1/channels", {"code": "WEB", "kind": "shopify", "locations": ["WH1", "WH2"]}),
        ("/v1/channels", {"code": "AMZ", "kind": "amazon", "locations": ["WH1"], "priority": 50}),
        ("/v1/listings", {"channel": "WEB", "listing": "web-tee-m", "sku": "TEE-M"}),
        ("/v1/listings", {"channel": "AMZ", "listing": "amz-6pk", "sku": "TEE-M", "units": 6}),
    ]
    for path, body in steps:
        response = api.post(path, json=body)
        assert response.status_code == 201, response.text
    api.post("/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 13})
    return api


def test_items_are_listed_a_page_at_a_time_with_filters(shop: Api) -> None:
    first = shop.get("/v1/items?limit=1", role="viewer").json()
    assert [i["sku"] for i in first["data"]] == ["TEE-L"]
    rest = shop.get(f"/v1/items?limit=1&cursor={first['next_cursor']}", role="viewer").json()
    assert rest == {
        "data": [
            {
                "sku": "TEE-M",
                "title": "Tee M",
                "barcode": None,
                "unit_cost": "4.5000",
                "price": None,
                "tags": ["tees"],
                "archived": False,
            }
        ],
        "next_cursor": None,
    }
    tagged = shop.get("/v1/items?tag=tees", role="viewer").json()["data"]
    assert [i["sku"] for i in tagged] == ["TEE-M"]
    problem(shop.get("/v1/items?cursor=nonsense", role="viewer"), 422, "validation")


def test_items_and_locations_are_changed_archived_and_restored(shop: Api) -> None:
    assert shop.patch("/v1/items/TEE-L", json={"price": "9.99"}).json()["price"] == "9.9900"
    assert shop.post("/v1/items/TEE-L/archive").json()["archived"] is True
    assert [i["sku"] for i in shop.get("/v1/items").json()["data"]] == ["TEE-M"]
    assert shop.post("/v1/items/TEE-L/restore").json()["archived"] is False
    assert shop.patch("/v1/locations/WH2", json={"zone": "east"}).json()["zone"] == "east"
    assert shop.get("/v1/locations/WH2").json()["zone"] == "east"
    codes = [x["code"] for x in shop.get("/v1/locations?kind=3pl").json()["data"]]
    assert codes == ["WH2"]
    problem(shop.post("/v1/items", json={"sku": "TEE-M", "title": "again"}), 409, "conflict")
    problem(shop.get("/v1/items/NOPE"), 404, "not-found")
    problem(shop.get("/v1/locations/NOPE"), 404, "not-found")


def test_ats_of_an_item_has_the_objects_of_ats_show_json(shop: Api) -> None:
    found = shop.get("/v1/items/TEE-M/ats", role="viewer").json()
    assert [(x["channel"], x["listing"], x["ats"]) for x in found] == [
        ("WEB", "web-tee-m", 13),
        ("AMZ", "amz-6pk", 2),
    ]
    assert set(found[1]) == {"channel", "listing", "ats", "explanation"}
    assert found[1]["explanation"][0] == {
        "step": "pool",
        "value": 13,
        "rule": "available at WH1 (channel AMZ)",
        "level": "channel",
    }
    explained = shop.get("/v1/channels/AMZ/listings/amz-6pk/ats", role="viewer").json()
    assert explained == found[1:]
    problem(shop.get("/v1/items/NOPE/ats", role="viewer"), 404, "not-found")


def test_a_rule_dry_run_shows_the_effect_and_saves_nothing(shop: Api) -> None:
    preview = shop.post("/v1/rules", json={"channel": "WEB", "buffer": 3, "dry_run": True})
    assert preview.json()["saved"] is False
    assert preview.json()["effect"] == [
        {"channel": "AMZ", "listing": "amz-6pk", "before": 2, "after": 2},
        {"channel": "WEB", "listing": "web-tee-m", "before": 13, "after": 10},
    ]
    assert shop.get("/v1/rules").json()["data"] == []
    saved = shop.post("/v1/rules", json={"channel": "WEB", "buffer": 3, "reason": "sale"})
    assert (saved.json()["saved"], saved.json()["after"]["buffer"]) == (True, 3)
    assert [r["buffer"] for r in shop.get("/v1/rules").json()["data"]] == [3]
    history = shop.get("/v1/rules/history").json()["data"]
    assert [(h["actor"], h["reason"]) for h in history] == [("key:1:admin key", "sale")]
    listings = shop.get("/v1/listings?channel=WEB").json()["data"]
    assert [(x["listing"], x["ats"]) for x in listings] == [("web-tee-m", 10)]
    problem(shop.post("/v1/rules", json={"sku": "TEE-M", "buffer": 1}), 422, "validation")


def test_channels_bundles_and_event_profiles_round_trip(shop: Api) -> None:
    assert [c["code"] for c in shop.get("/v1/channels").json()["data"]] == ["AMZ", "WEB"]
    changed = shop.patch("/v1/channels/AMZ", json={"priority": 200}).json()
    assert changed["priority"] == 200
    bundle = shop.post(
        "/v1/bundles",
        json={"sku": "PACK", "components": [{"sku": "TEE-M", "quantity": 2}]},
    )
    assert bundle.json() == {
        "sku": "PACK",
        "title": "PACK",
        "components": [{"sku": "TEE-M", "quantity": 2}],
    }
    replaced = shop.put("/v1/bundles/PACK", json={"components": [{"sku": "TEE-L", "quantity": 1}]})
    assert replaced.json()["components"] == [{"sku": "TEE-L", "quantity": 1}]
    problem(
        shop.post("/v1/bundles", json={"sku": "X", "components": [{"sku": "NOPE", "quantity": 1}]}),
        404,
        "not-found",
    )
    event = {"name": "BFCM", "start": "2026-11-27T00:00:00Z", "end": "2026-12-01T00:00:00Z"}
    assert shop.post("/v1/event-profiles", json=event).status_code == 201
    assert [e["name"] for e in shop.get("/v1/event-profiles").json()["data"]] == ["BFCM"]
    naive = dict(event, name="X", start="2026-11-27T00:00:00")
    problem(shop.post("/v1/event-profiles", json=naive), 422, "validation")
    assert shop.post("/v1/ats/recompute").json() == {"computed": 2, "changed": 0}
