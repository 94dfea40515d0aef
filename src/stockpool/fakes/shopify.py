"""A fake Shopify shop: the Admin GraphQL API (2026-04) and order webhooks, on an ASGI app.

Use it in-process through `httpx.ASGITransport(app=fake.app)` or on 127.0.0.1 through
uvicorn. It keeps inventory levels (item x location -> available, see `shopify_inventory`),
its own customers' orders (which lower `available` at once, before anyone hears of them;
see `shopify_orders`), and sends signed webhooks (`orders/create`, `orders/updated`,
`orders/cancelled`) that it can duplicate, delay, reorder and drop. It validates every
GraphQL document against `shopify_schema`, applies `inventorySetQuantities` with
compare-and-set (`changeFromQuantity`) and idempotency keys (`@idempotent`), charges a
leaky cost bucket and throttles, and injects faults on demand (see `shopify_faults`): 429,
500/503, slow answers, connection resets, an expired token. Time comes from an injected
clock.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graphql import (
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockpool.fakes import shopify_schema
from stockpool.fakes.shopify_faults import (
    Bucket,
    Delivery,
    FaultQueue,
    WebhookChaos,
    WebhookQueue,
)
from stockpool.fakes.shopify_inventory import InventoryBook
from stockpool.fakes.shopify_orders import FakeOrder, OrderBook

__all__ = ["API_VERSION", "Bucket", "Delivery", "FakeShopify", "WebhookChaos", "sign"]

API_VERSION = "2026-04"
MAX_QUERY_COST = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sign(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 Shopify puts in `X-Shopify-Hmac-Sha256`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class FakeShopify:
    """One fake shop. Configure it, then serve `app`."""

    token: str = "shpat_test"
    shop: str = "fake.myshopify.com"
    secret: str = "whsec_current"
    clock: Callable[[], datetime] = _utc_now
    bucket: Bucket = field(default_factory=Bucket)
    chaos: WebhookChaos = field(default_factory=WebhookChaos)
    token_expires_at: datetime | None = None
    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    skus: dict[str, str] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.schema = shopify_schema.build()
        self.orders = OrderBook()
        self.inventory = InventoryBook(levels=self.levels, skus=self.skus)
        self.faults = FaultQueue()
        self._random = random.Random(self.chaos.seed)
        self.webhooks = WebhookQueue(self._random)
        self.app = Starlette(
            routes=[Route("/admin/api/{version}/graphql.json", self._graphql, methods=["POST"])]
        )

    # -- the shop's own side -------------------------------------------------------------

    def stock(self, item: str, location: str, available: int, *, sku: str = "") -> None:
        """Stock an inventory item at a location (what a merchant does in the admin)."""
        self.levels[(item, location)] = available
        self.skus[item] = sku or item.rsplit("/", 1)[-1]

    def available(self, item: str, location: str) -> int:
        """The `available` quantity of an item at a location."""
        return self.levels[(item, location)]

    def sell(self, lines: list[tuple[str, int]], location: str) -> FakeOrder | None:
        """A customer buys: refused (None) unless every line is available as shown."""
        if any(self.levels.get((item, location), 0) < qty for item, qty in lines):
            return None
        for item, qty in lines:
            self.levels[(item, location)] -= qty
        order = self.orders.create(
            [(item, self.skus.get(item), qty) for item, qty in lines], location, self.clock()
        )
        self._emit("orders/create", order)
        return order

    def cancel(self, order_id: str) -> FakeOrder:
        """The merchant cancels an order and restocks its items."""
        order = self.orders.cancel(order_id, self.clock())
        for line in order.lines:
            self.levels[(line.item, order.location)] += line.current
        self._emit("orders/cancelled", order)
        self._emit("orders/updated", order)
        return order

    def fail_next(self, kind: str, *, times: int = 1, value: float = 1.0) -> None:
        """Fail the next `times` API calls: "429" (value = Retry-After), "500", "503",
        "reset", "slow" (value = seconds), "401"."""
        self.faults.add(kind, times=times, value=value)

    # -- webhooks ------------------------------------------------------------------------

    def _emit(self, topic: str, order: FakeOrder) -> None:
        body = json.dumps(order.webhook_payload()).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": self.shop,
            "X-Shopify-Webhook-Id": str(uuid.UUID(int=self._random.getrandbits(128))),
            "X-Shopify-Event-Id": str(uuid.UUID(int=self._random.getrandbits(128))),
            "X-Shopify-Triggered-At": self.clock().isoformat(),
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Hmac-Sha256": sign(body, self.secret),
        }
        self.webhooks.add(Delivery(topic, body, headers))

    def take_webhooks(self, *, everything: bool = False) -> list[Delivery]:
        """The deliveries to send now, after chaos: some dropped, duplicated, held back
        for a later call, reordered. `everything` releases held ones and applies no chaos."""
        return self.webhooks.take(self.chaos, everything=everything)

    # -- the Admin API -------------------------------------------------------------------

    async def _graphql(self, request: Request) -> Response:
        fault = await self.faults.next_answer()
        if fault is not None:
            return fault
        if request.path_params["version"] != API_VERSION:
            return JSONResponse({"errors": "Not Found"}, status_code=404)
        token = request.headers.get("x-shopify-access-token")
        expired = self.token_expires_at is not None and self.clock() >= self.token_expires_at
        if token != self.token or expired:
            message = "[API] Invalid API key or access token (unrecognized login or wrong password)"
            return JSONResponse({"errors": message}, status_code=401)
        try:
            body = json.loads(await request.body())
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"errors": "Bad Request"}, status_code=400)
        self.requests.append({"query": query, "variables": variables})
        return JSONResponse(self._answer(query, variables))

    def _answer(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [_error(exc.message, "PARSE_ERROR")]}
        problems = validate(self.schema, document)
        if problems:
            return {"errors": [_error(p.message, "GRAPHQL_VALIDATION_FAILED") for p in problems]}
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        cost = shopify_schema.query_cost(operations[0], fragments, variables)
        self.bucket.refill(self.clock())
        if cost > MAX_QUERY_COST:
            return {"errors": [_error("Query cost exceeds 1000", "MAX_COST_EXCEEDED")]}
        if cost > self.bucket.available:
            return {
                "errors": [_error("Throttled", "THROTTLED")],
                "extensions": self._cost(cost, None),
            }
        self.bucket.available -= cost
        result = self._execute(document, operations[0], variables)
        answer: dict[str, Any] = {"data": result.data, "extensions": self._cost(cost, cost)}
        if result.errors:
            answer["errors"] = [_error(e.message, "BAD_REQUEST") for e in result.errors]
        return answer

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self.bucket.status(),
            }
        }

    def _execute(
        self, document: Any, operation: OperationDefinitionNode, variables: dict[str, Any]
    ) -> ExecutionResult:
        root: dict[str, Any]
        if operation.operation.value == "mutation":
            root = {"inventorySetQuantities": self._set_quantities}
        else:
            root = {
                "nodes": self._nodes,
                "order": lambda _info, id: self.orders.node(id, self.levels),
                "orders": self._orders,
                "inventoryItem": lambda _info, id: self.inventory.item_node(id),
            }
        result = execute(self.schema, document, root_value=root, variable_values=variables)
        assert not isinstance(result, asyncio.Future)
        return result  # type: ignore[return-value]

    # -- resolvers -----------------------------------------------------------------------

    def _set_quantities(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        return self.inventory.set_quantities(info, input, self.clock())

    def _nodes(self, _info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
        found: list[dict[str, Any] | None] = []
        for gid in ids:
            if "/InventoryItem/" in gid:
                found.append(self.inventory.item_node(gid))
            elif "/Order/" in gid:
                found.append(self.orders.node(gid, self.levels))
            else:
                found.append(None)
        return found

    def _orders(self, _info: Any, **args: Any) -> dict[str, Any]:
        return self.orders.connection(
            first=int(args.get("first") or 50),
            after=args.get("after"),
            query=args.get("query") or "",
            levels=self.levels,
        )


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}
