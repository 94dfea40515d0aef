"""Pure rules behind the API: grants, signatures, backoff, cursors, problem mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from stockpool.api.pagination import decode_cursor, encode_cursor, paginate
from stockpool.api.problems import ApiProblem
from stockpool.domain.access import Permission, Role, allows, require_role
from stockpool.domain.errors import InvalidInput
from stockpool.domain.events import (
    MAX_ATTEMPTS,
    next_attempt,
    require_event_types,
    require_webhook_url,
    sign,
    signature_matches,
)
from stockpool.services.access import hash_key, request_hash, require_idempotency_key

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_each_role_is_granted_exactly_its_permissions() -> None:
    granted = {role.value: sorted(p.value for p in Permission if allows(role, p)) for role in Role}
    assert granted == {
        "admin": ["administer", "deliver_webhooks", "ingest_orders", "operate", "read"],
        "operator": ["ingest_orders", "operate", "read"],
        "viewer": ["read"],
        "integration": ["deliver_webhooks", "ingest_orders"],
    }
    with pytest.raises(InvalidInput, match="role must be one of admin, operator"):
        require_role("root")


def test_a_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    assert sign("key", b"The quick brown fox jumps over the lazy dog") == (
        "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
    assert signature_matches("key", b"body", sign("key", b"body"))
    assert not signature_matches("key", b"body!", sign("key", b"body"))


def test_retries_back_off_exponentially_then_give_up() -> None:
    delays = [next_attempt(n, NOW, base_seconds=5) for n in range(1, MAX_ATTEMPTS + 1)]
    assert [d - NOW for d in delays[:-1] if d] == [timedelta(seconds=5 * 2**k) for k in range(7)]
    assert delays[-1] is None


def test_webhook_settings_are_checked() -> None:
    assert require_event_types(["stock.changed", "ats.changed", "ats.changed"]) == (
        "ats.changed",
        "stock.changed",
    )
    with pytest.raises(InvalidInput, match="unknown event type 'stock.moved'"):
        require_event_types(["stock.moved"])
    with pytest.raises(InvalidInput, match="absolute http"):
        require_webhook_url("file:///etc/passwd")


def test_keys_and_requests_hash_to_stable_digests() -> None:
    assert hash_key("sp_x") == "a053fbca3389202bea814d3a47bbde9464da12aef401531f877f93e30127f233"
    assert request_hash("POST", "/a", b"1") != request_hash("POST", "/a1", b"")
    with pytest.raises(InvalidInput, match="Idempotency-Key must be"):
        require_idempotency_key("has space")


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor("TEE-M")) == "TEE-M"
    assert decode_cursor(encode_cursor(42)) == 42
    rows = list(range(1, 6))
    page, following = paginate(rows, lambda r: r, None, 2)
    assert (page, decode_cursor(following)) == ([1, 2], 2)
    assert paginate(rows, lambda r: r, following, 10) == ([3, 4, 5], None)
    with pytest.raises(ApiProblem, match="not one this API gave"):
        decode_cursor("!!")
