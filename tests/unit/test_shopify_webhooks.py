"""Shopify webhook signatures: base64 HMAC-SHA256 of the raw body, old secret in rotation."""

from __future__ import annotations

import httpx
import pytest

from stockpool.channels.http import parse_retry_after
from stockpool.channels.protocol import QuantityPush, RemoteRef
from stockpool.channels.shopify import ShopifyConnector, ShopifySettings, idempotency_key
from stockpool.channels.webhooks import sign_base64, verify_base64
from stockpool.services.webhooks_in import BadSignature

BODY = b'{"id": 1001, "updated_at": "2026-03-02T09:00:00+00:00"}'
REF = RemoteRef("gid://shopify/InventoryItem/1", "gid://shopify/Location/1")


def connector(*secrets: str) -> ShopifyConnector:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(500)))
    return ShopifyConnector(client, ShopifySettings("s.myshopify.com", "http://x", "t", secrets))


def headers(signature: str, webhook_id: str | None = "wh-1") -> dict[str, str]:
    found = {"X-Shopify-Hmac-Sha256": signature, "X-Shopify-Topic": "orders/create"}
    if webhook_id is not None:
        found["X-Shopify-Webhook-Id"] = webhook_id
    return found


def test_a_body_signed_with_the_current_secret_verifies() -> None:
    assert connector("new", "old").verify_webhook(headers(sign_base64(BODY, "new")), BODY) == "wh-1"


def test_a_body_signed_with_the_previous_secret_verifies_during_a_rotation() -> None:
    assert connector("new", "old").verify_webhook(headers(sign_base64(BODY, "old")), BODY) == "wh-1"


def test_a_signature_of_another_secret_is_refused() -> None:
    with pytest.raises(BadSignature):
        connector("new", "old").verify_webhook(headers(sign_base64(BODY, "evil")), BODY)


def test_a_body_changed_by_one_byte_is_refused() -> None:
    signature = sign_base64(BODY, "new")
    with pytest.raises(BadSignature):
        connector("new").verify_webhook(headers(signature), BODY.replace(b"1001", b"1002"))


def test_a_webhook_without_a_delivery_id_is_refused() -> None:
    with pytest.raises(BadSignature, match="X-Shopify-Webhook-Id"):
        connector("new").verify_webhook(headers(sign_base64(BODY, "new"), None), BODY)


def test_header_names_are_matched_whatever_their_case() -> None:
    lowered = {k.lower(): v for k, v in headers(sign_base64(BODY, "new")).items()}
    assert connector("new").verify_webhook(lowered, BODY) == "wh-1"


def test_a_missing_or_empty_signature_never_verifies() -> None:
    assert verify_base64(BODY, None, ["new"]) is False
    assert verify_base64(BODY, "", ["new"]) is False
    assert verify_base64(BODY, sign_base64(BODY, ""), [""]) is False


def test_retry_after_reads_seconds_and_falls_back_when_unreadable() -> None:
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) == 1.0
    assert parse_retry_after("soon") == 1.0


def test_the_idempotency_key_names_exactly_what_is_written() -> None:
    first = QuantityPush("L1", REF, 5, 7, 3)
    assert idempotency_key([first]) == idempotency_key([first])
    assert idempotency_key([first]) != idempotency_key([QuantityPush("L1", REF, 5, 6, 3)])
    assert idempotency_key([first]) != idempotency_key([QuantityPush("L1", REF, 5, 7, 4)])
    assert idempotency_key([first]).startswith("sp-")


def test_a_new_attempt_at_the_same_write_gets_a_new_idempotency_key() -> None:
    first = QuantityPush("L1", REF, 5, 7, 3)
    assert idempotency_key([first]) == idempotency_key([QuantityPush("L1", REF, 5, 7, 3, 0)])
    assert idempotency_key([first]) != idempotency_key([QuantityPush("L1", REF, 5, 7, 3, 1)])
