"""The API as `stockpool serve` builds it: Shopify webhooks are verified with the channel's
own secrets, with no extra wiring."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from stockpool.api.app import create_app
from stockpool.bootstrap import Settings, build_api
from stockpool.fakes.shopify import sign
from stockpool.services import catalog, channels, sync
from stockpool.services.context import Services
from tests.apiclient import serving
from tests.dbsnapshot import snapshot

SHOP = "demo-shop.myshopify.com"


def _delivery(body: bytes, secret: str, webhook_id: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": SHOP,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
    }


def test_the_served_api_verifies_shopify_webhooks_with_the_channel_secret(
    app: Services, database_url: str, tmp_path: Path
) -> None:
    catalog.add_location(app, "WH1", "Main", "warehouse")
    channels.add_channel(app, "shop", "shopify", ["WH1"])
    sync.connect(app, "shop", shop=SHOP, base_url="http://127.0.0.1:9", token="t", secrets=["s1"])
    served = build_api(create_app, Settings(database_url=database_url, data_dir=tmp_path))
    body = json.dumps({"id": 1001, "updated_at": "2026-03-02T09:00:00Z"}).encode()
    with serving(served) as base, httpx.Client(base_url=base, timeout=10) as client:
        before = snapshot(app)
        forged = client.post("/webhooks/shopify", content=body, headers=_delivery(body, "x", "w1"))
        assert forged.status_code == 401
        assert snapshot(app) == before
        good = client.post("/webhooks/shopify", content=body, headers=_delivery(body, "s1", "w1"))
        again = client.post("/webhooks/shopify", content=body, headers=_delivery(body, "s1", "w1"))
    served.state.services.uow.engine.dispose()
    assert (good.status_code, good.json()["duplicate"]) == (202, False)
    assert (again.status_code, again.json()["duplicate"]) == (202, True)
    assert again.json()["id"] == good.json()["id"]
