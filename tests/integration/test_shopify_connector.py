"""The Shopify connector against the fake Shopify: every path of the contract it relies on.

In-process through `httpx.ASGITransport`, and once on 127.0.0.1 through uvicorn.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import pytest
import uvicorn

from stockpool.channels.errors import AuthExpired, Throttled, Transient
from stockpool.channels.protocol import PushStatus, QuantityPush, RemoteRef
from stockpool.channels.shopify import SET_QUANTITIES, ShopifyConnector, ShopifySettings
from stockpool.fakes.shopify import Bucket, FakeShopify
from tests.conftest import FakeClock

T = TypeVar("T")
ITEM1, ITEM2 = "gid://shopify/InventoryItem/1", "gid://shopify/InventoryItem/2"
LOC = "gid://shopify/Location/1"
REF1, REF2 = RemoteRef(ITEM1, LOC), RemoteRef(ITEM2, LOC)


@pytest.fixture
def fake(clock: FakeClock) -> FakeShopify:
    shop = FakeShopify(clock=clock, bucket=Bucket(maximum=1000, restore_rate=100, available=1000))
    shop.stock(ITEM1, LOC, 10, sku="TEE")
    shop.stock(ITEM2, LOC, 4, sku="CAP")
    return shop


def run(fake: FakeShopify, step: Callable[[ShopifyConnector], Awaitable[T]], **kw: float) -> T:
    async def go() -> T:
        transport = httpx.ASGITransport(app=fake.app)
        timeout = httpx.Timeout(kw.get("timeout", 5.0))
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            settings = ShopifySettings(fake.shop, "http://shop.test", fake.token, (fake.secret,))
            return await step(ShopifyConnector(client, settings))

    return asyncio.run(go())


def push(ref: RemoteRef, quantity: int, change_from: int | None, version: int = 1) -> QuantityPush:
    return QuantityPush(f"L-{ref.item[-1]}", ref, quantity, change_from, version)


def test_a_push_with_the_right_change_from_sets_available(fake: FakeShopify) -> None:
    result = run(fake, lambda c: c.push_quantities([push(REF1, 7, 10), push(REF2, 0, 4)]))
    assert [x.status for x in result.items] == [PushStatus.APPLIED, PushStatus.APPLIED]
    assert result.response_id == "gid://shopify/InventoryAdjustmentGroup/1"
    assert (fake.available(ITEM1, LOC), fake.available(ITEM2, LOC)) == (7, 0)


def test_a_stale_change_from_applies_nothing_of_the_batch(fake: FakeShopify) -> None:
    fake.sell([(ITEM1, 2)], LOC)
    result = run(fake, lambda c: c.push_quantities([push(REF1, 7, 10), push(REF2, 1, 4)]))
    assert [x.status for x in result.items] == [PushStatus.STALE, PushStatus.NOT_APPLIED]
    assert result.response_id is None
    assert (fake.available(ITEM1, LOC), fake.available(ITEM2, LOC)) == (8, 4)


def test_a_replayed_write_returns_the_first_result_and_applies_once(fake: FakeShopify) -> None:
    first = run(fake, lambda c: c.push_quantities([push(REF1, 7, 10)]))
    fake.sell([(ITEM1, 3)], LOC)
    again = run(fake, lambda c: c.push_quantities([push(REF1, 7, 10)]))
    assert again == first
    assert fake.available(ITEM1, LOC) == 4


def test_the_same_pushes_in_another_order_are_the_same_write(fake: FakeShopify) -> None:
    first = run(fake, lambda c: c.push_quantities([push(REF1, 7, 10), push(REF2, 1, 4)]))
    again = run(fake, lambda c: c.push_quantities([push(REF2, 1, 4), push(REF1, 7, 10)]))
    assert [(x.push.ref, x.status) for x in again.items] == [
        (REF2, PushStatus.APPLIED),
        (REF1, PushStatus.APPLIED),
    ]
    assert again.response_id == first.response_id
    assert (fake.available(ITEM1, LOC), fake.available(ITEM2, LOC)) == (7, 1)
    assert fake.requests[0]["variables"] == fake.requests[1]["variables"]


def test_the_same_key_with_other_variables_is_a_parameter_mismatch(fake: FakeShopify) -> None:
    def body(quantity: int) -> dict[str, object]:
        item = {
            "inventoryItemId": ITEM1,
            "locationId": LOC,
            "quantity": quantity,
            "changeFromQuantity": None,
        }
        variables = {"input": {"name": "available", "reason": "correction", "quantities": [item]}}
        return {"query": SET_QUANTITIES % '"k-1"', "variables": variables}

    async def go(client: httpx.AsyncClient) -> list[dict[str, object]]:
        answers = []
        for quantity in (3, 5):
            response = await client.post(
                "/admin/api/2026-04/graphql.json",
                json=body(quantity),
                headers={"X-Shopify-Access-Token": fake.token},
            )
            answers.append(response.json()["data"]["inventorySetQuantities"])
        return answers

    async def main() -> list[dict[str, object]]:
        transport = httpx.ASGITransport(app=fake.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop.test") as client:
            return await go(client)

    first, second = asyncio.run(main())
    assert first["userErrors"] == []
    assert second["userErrors"] == [
        {
            "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            "field": None,
            "message": "The same idempotency key cannot be used with different parameters.",
        }
    ]
    assert fake.available(ITEM1, LOC) == 3


def test_a_mutation_without_the_idempotent_directive_is_rejected(fake: FakeShopify) -> None:
    query = SET_QUANTITIES.replace(" @idempotent(key: %s)", "")
    item = {"inventoryItemId": ITEM1, "locationId": LOC, "quantity": 1, "changeFromQuantity": 10}
    variables = {"input": {"name": "available", "reason": "correction", "quantities": [item]}}
    answer = fake._answer(query, variables)
    assert answer["errors"][0]["message"] == (
        "The @idempotent directive is required for this mutation."
    )
    assert fake.available(ITEM1, LOC) == 10


def test_a_quantity_without_change_from_is_refused(fake: FakeShopify) -> None:
    item = {"inventoryItemId": ITEM1, "locationId": LOC, "quantity": 1}
    variables = {"input": {"name": "available", "reason": "correction", "quantities": [item]}}
    answer = fake._answer(SET_QUANTITIES % '"k-2"', variables)
    errors = answer["data"]["inventorySetQuantities"]["userErrors"]
    assert [e["code"] for e in errors] == ["CHANGE_FROM_QUANTITY_REQUIRED"]
    assert fake.available(ITEM1, LOC) == 10


def test_a_document_with_an_unknown_field_fails_validation(fake: FakeShopify) -> None:
    answer = fake._answer("query { orders(first: 1) { nodes { id totalWeight } } }", {})
    assert answer["errors"][0]["extensions"] == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert "totalWeight" in answer["errors"][0]["message"]


def test_an_unknown_item_is_an_invalid_listing(fake: FakeShopify) -> None:
    ghost = RemoteRef("gid://shopify/InventoryItem/99", LOC)
    result = run(fake, lambda c: c.push_quantities([push(ghost, 1, 0), push(REF1, 2, 10)]))
    assert [x.status for x in result.items] == [PushStatus.INVALID, PushStatus.NOT_APPLIED]
    assert fake.available(ITEM1, LOC) == 10


def test_a_throttled_answer_in_a_200_says_how_long_to_wait(
    fake: FakeShopify, clock: FakeClock
) -> None:
    fake.bucket.available = 4
    fake.bucket.at = clock()
    with pytest.raises(Throttled) as caught:
        run(fake, lambda c: c.push_quantities([push(REF1, 7, 10)]))
    assert caught.value.retry_after == pytest.approx(0.06)
    assert fake.available(ITEM1, LOC) == 10


def test_the_bucket_leaks_back_at_the_restore_rate(fake: FakeShopify, clock: FakeClock) -> None:
    fake.bucket.available = 4
    fake.bucket.at = clock()
    clock.advance(seconds=0.1)

    async def step(c: ShopifyConnector) -> float | None:
        await c.push_quantities([push(REF1, 7, 10)])
        return None if c.rate is None else c.rate.available

    assert run(fake, step) == 4.0  # 4 + 10 restored - 10 spent
    assert fake.available(ITEM1, LOC) == 7


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", Throttled),
        ("500", Transient),
        ("503", Transient),
        ("reset", Transient),
        ("401", AuthExpired),
    ],
)
def test_faults_are_classified(fake: FakeShopify, fault: str, error: type[Exception]) -> None:
    fake.fail_next(fault, value=3)
    with pytest.raises(error):
        run(fake, lambda c: c.push_quantities([push(REF1, 7, 10)]))
    assert fake.available(ITEM1, LOC) == 10


def test_a_429_carries_the_retry_after_header(fake: FakeShopify) -> None:
    fake.fail_next("429", value=3)
    with pytest.raises(Throttled) as caught:
        run(fake, lambda c: c.fetch_quantities([REF1]))
    assert caught.value.retry_after == 3.0


def test_an_expired_token_is_auth_expired(fake: FakeShopify, clock: FakeClock) -> None:
    fake.token_expires_at = clock() + timedelta(minutes=60)
    clock.advance(minutes=61)
    with pytest.raises(AuthExpired):
        run(fake, lambda c: c.fetch_quantities([REF1]))


def test_quantities_are_read_back_and_unknown_items_are_none(fake: FakeShopify) -> None:
    ghost = RemoteRef("gid://shopify/InventoryItem/99", LOC)
    found = run(fake, lambda c: c.fetch_quantities([REF1, REF2, ghost]))
    assert found == {REF1: 10, REF2: 4, ghost: None}


def test_orders_are_listed_by_update_time_page_by_page(fake: FakeShopify, clock: FakeClock) -> None:
    fake.bucket = Bucket(maximum=2000, restore_rate=100, available=2000)
    made = []
    for _ in range(12):
        clock.advance(seconds=1)
        order = fake.sell([(ITEM2 if len(made) % 2 else ITEM1, 0)], LOC)
        assert order is not None
        made.append(order.gid)
    clock.advance(seconds=1)
    fake.cancel(made[0])

    async def step(c: ShopifyConnector) -> list[str]:
        seen, cursor = [], None
        while True:
            page = await c.fetch_orders(datetime(2026, 3, 2, 9, 0, 2, tzinfo=UTC), cursor=cursor)
            seen += [o.external_id for o in page.orders]
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    assert run(fake, step) == made[1:] + [made[0]]


def test_one_order_is_fetched_with_its_lines_and_cancellation(fake: FakeShopify) -> None:
    order = fake.sell([(ITEM1, 2), (ITEM2, 1)], LOC)
    assert order is not None
    fake.cancel(order.gid)
    found = run(fake, lambda c: c.fetch_order(order.gid))
    assert found is not None
    assert found.cancelled is True
    assert [(x.remote_item, x.quantity, x.sku) for x in found.lines] == [
        (ITEM1, 2, "TEE"),
        (ITEM2, 1, "CAP"),
    ]
    assert run(fake, lambda c: c.fetch_order("gid://shopify/Order/1")) is None


def test_the_fakes_customers_cannot_buy_more_than_is_shown(fake: FakeShopify) -> None:
    assert fake.sell([(ITEM2, 5)], LOC) is None
    assert fake.available(ITEM2, LOC) == 4
    assert fake.take_webhooks() == []


def test_webhooks_can_be_duplicated_held_back_and_dropped(fake: FakeShopify) -> None:
    fake.chaos.duplicate, fake.chaos.delay = 1.0, 0.0
    fake.sell([(ITEM1, 1)], LOC)
    sent = fake.take_webhooks()
    assert [d.headers["X-Shopify-Topic"] for d in sent] == ["orders/create", "orders/create"]
    assert sent[0].headers["X-Shopify-Webhook-Id"] == sent[1].headers["X-Shopify-Webhook-Id"]
    fake.chaos.duplicate, fake.chaos.delay = 0.0, 1.0
    fake.sell([(ITEM1, 1)], LOC)
    assert fake.take_webhooks() == []
    assert len(fake.take_webhooks(everything=True)) == 1
    fake.chaos.delay, fake.chaos.drop = 0.0, 1.0
    fake.sell([(ITEM1, 1)], LOC)
    assert fake.take_webhooks() == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(fake: FakeShopify) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_the_connector_works_against_the_fake_on_loopback(fake: FakeShopify, served: str) -> None:
    async def go() -> tuple[PushStatus, dict[RemoteRef, int | None]]:
        async with httpx.AsyncClient(timeout=5) as client:
            settings = ShopifySettings(fake.shop, served, fake.token, (fake.secret,))
            connector = ShopifyConnector(client, settings)
            result = await connector.push_quantities([push(REF1, 6, 10)])
            return result.items[0].status, await connector.fetch_quantities([REF1])

    assert asyncio.run(go()) == (PushStatus.APPLIED, {REF1: 6})


def test_a_slow_answer_times_out_as_transient(fake: FakeShopify, served: str) -> None:
    fake.fail_next("slow", value=1.0)

    async def go() -> None:
        async with httpx.AsyncClient(timeout=0.1) as client:
            settings = ShopifySettings(fake.shop, served, fake.token, (fake.secret,))
            await ShopifyConnector(client, settings).fetch_quantities([REF1])

    with pytest.raises(Transient):
        asyncio.run(go())
