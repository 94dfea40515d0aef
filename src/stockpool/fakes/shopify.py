"""A fake Shopify shop: the Admin GraphQL API (2026-04) and order webhooks, on an ASGI app.

Use it in-process through `httpx.ASGITransport(app=fake.app)` or on 127.0.0.1 through
uvicorn. It keeps inventory levels (item x location -> available), its own customers' orders
(which lower `available` at once, before anyone hears of them), and sends signed webhooks
(`orders/create`, `orders/updated`, `orders/cancelled`) that it can duplicate, delay,
reorder and drop. It validates every GraphQL document against `shopify_schema`, applies
`inventorySetQuantities` with compare-and-set (`changeFromQuantity`) and idempotency keys
(`@idempotent`), charges a leaky cost bucket and throttles, and injects faults on demand:
429, 500/503, slow answers, connection resets, an expired token. Time comes from an
injected clock.
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
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    StringValueNode,
    execute,
    parse,
    validate,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stockpool.fakes import shopify_schema
from stockpool.fakes.shopify_orders import FakeOrder, OrderBook

API_VERSION = "2026-04"
MAX_QUERY_COST = 1000


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sign(body: bytes, secret: str) -> str:
    """The base64 HMAC-SHA256 Shopify puts in `X-Shopify-Hmac-Sha256`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Bucket:
    """The leaky cost bucket of one app x shop."""

    maximum: float = 1000.0
    restore_rate: float = 100.0
    available: float = 1000.0
    at: datetime | None = None

    def refill(self, now: datetime) -> None:
        """Restore what leaked back since the last call."""
        if self.at is not None:
            elapsed = max(0.0, (now - self.at).total_seconds())
            self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.at = now

    def status(self) -> dict[str, float]:
        """The `throttleStatus` Shopify reports."""
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class Delivery:
    """A webhook ready to send: where it goes is up to the caller."""

    topic: str
    body: bytes
    headers: dict[str, str]


@dataclass
class WebhookChaos:
    """How badly webhooks behave: probabilities per delivery, from a seeded generator."""

    duplicate: float = 0.0
    drop: float = 0.0
    delay: float = 0.0
    reorder: bool = False
    seed: int = 0


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
        self._faults: list[tuple[str, float]] = []
        self._idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        self._outbox: list[Delivery] = []
        self._held: list[Delivery] = []
        self._random = random.Random(self.chaos.seed)
        self._groups = 0
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

    # -- faults --------------------------------------------------------------------------

    def fail_next(self, kind: str, *, times: int = 1, value: float = 1.0) -> None:
        """Fail the next `times` API calls: "429" (value = Retry-After), "500", "503",
        "reset", "slow" (value = seconds), "401"."""
        self._faults.extend([(kind, value)] * times)

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
        self._outbox.append(Delivery(topic, body, headers))

    def take_webhooks(self, *, everything: bool = False) -> list[Delivery]:
        """The deliveries to send now, after chaos: some dropped, duplicated, held back
        for a later call, reordered. `everything` releases held ones and applies no chaos."""
        pending, self._outbox = self._outbox, []
        if everything:
            sent, self._held = self._held + pending, []
            return sent
        chaos, rnd = self.chaos, self._random
        sent = self._held
        self._held = []
        for delivery in pending:
            if rnd.random() < chaos.drop:
                continue
            if rnd.random() < chaos.delay:
                self._held.append(delivery)
                continue
            sent.append(delivery)
            if rnd.random() < chaos.duplicate:
                sent.append(delivery)
        if chaos.reorder:
            rnd.shuffle(sent)
        return sent

    # -- the Admin API -------------------------------------------------------------------

    async def _graphql(self, request: Request) -> Response:
        fault = await self._fault()
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

    async def _fault(self) -> Response | None:
        if not self._faults:
            return None
        kind, value = self._faults.pop(0)
        if kind == "slow":
            await asyncio.sleep(value)
            return None
        if kind == "reset":
            raise ConnectionResetError("connection reset by the fake")
        if kind == "429":
            headers = {"Retry-After": f"{value:g}"}
            return JSONResponse({"errors": "Too Many Requests"}, status_code=429, headers=headers)
        if kind == "401":
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, 401)
        return JSONResponse({"errors": "Internal Server Error"}, status_code=int(kind))

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
                "inventoryItem": lambda _info, id: self._item_node(id),
            }
        result = execute(self.schema, document, root_value=root, variable_values=variables)
        assert not isinstance(result, asyncio.Future)
        return result  # type: ignore[return-value]

    # -- resolvers -----------------------------------------------------------------------

    def _item_node(self, item: str) -> dict[str, Any] | None:
        if not any(key[0] == item for key in self.levels):
            return None

        def level(_info: Any, locationId: str) -> dict[str, Any] | None:  # noqa: N803
            if (item, locationId) not in self.levels:
                return None
            value = self.levels[(item, locationId)]
            return {
                "id": f"gid://shopify/InventoryLevel/1?inventory_item_id={item}",
                "quantities": lambda _i, names: [
                    {"name": n, "quantity": value} for n in names if n == "available"
                ],
                "location": {"id": locationId, "name": locationId},
            }

        return {
            "__typename": "InventoryItem",
            "id": item,
            "sku": self.skus.get(item),
            "inventoryLevel": level,
        }

    def _nodes(self, _info: Any, ids: list[str]) -> list[dict[str, Any] | None]:
        found: list[dict[str, Any] | None] = []
        for gid in ids:
            if "/InventoryItem/" in gid:
                found.append(self._item_node(gid))
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

    def _set_quantities(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        key = _idempotency_key(info.field_nodes[0], info.variable_values)
        if key is None:
            raise GraphQLError("The @idempotent directive is required for this mutation.")
        fingerprint = json.dumps(input, sort_keys=True)
        if key in self._idempotency:
            seen, payload = self._idempotency[key]
            if seen != fingerprint:
                return _user_errors(
                    [
                        (
                            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
                            None,
                            "The same idempotency key cannot be used with different parameters.",
                        )
                    ]
                )
            return payload
        payload = self._apply(input)
        self._idempotency[key] = (fingerprint, payload)
        return payload

    def _apply(self, input: dict[str, Any]) -> dict[str, Any]:  # noqa: A002
        errors = _check_input(input)
        quantities = input["quantities"]
        for i, q in enumerate(quantities):
            where = (q["inventoryItemId"], q["locationId"])
            path = ["input", "quantities", str(i)]
            if not any(k[0] == where[0] for k in self.levels):
                errors.append(
                    (
                        "INVALID_INVENTORY_ITEM",
                        path + ["inventoryItemId"],
                        "The specified inventory item could not be found.",
                    )
                )
            elif where not in self.levels:
                errors.append(
                    (
                        "ITEM_NOT_STOCKED_AT_LOCATION",
                        path + ["locationId"],
                        "The item is not stocked at the location.",
                    )
                )
            elif "changeFromQuantity" not in q:
                errors.append(
                    (
                        "CHANGE_FROM_QUANTITY_REQUIRED",
                        path,
                        "changeFromQuantity must be given (null opts out).",
                    )
                )
            elif (
                q["changeFromQuantity"] is not None
                and q["changeFromQuantity"] != self.levels[where]
            ):
                errors.append(
                    (
                        "CHANGE_FROM_QUANTITY_STALE",
                        path + ["changeFromQuantity"],
                        "The changeFromQuantity value does not match persisted value.",
                    )
                )
        if errors:
            return _user_errors(errors)
        changes = []
        for q in quantities:
            where = (q["inventoryItemId"], q["locationId"])
            delta = q["quantity"] - self.levels[where]
            self.levels[where] = q["quantity"]
            changes.append(
                {"name": "available", "delta": delta, "quantityAfterChange": q["quantity"]}
            )
        self._groups += 1
        group = {
            "id": f"gid://shopify/InventoryAdjustmentGroup/{self._groups}",
            "reason": input["reason"],
            "referenceDocumentUri": input.get("referenceDocumentUri"),
            "createdAt": self.clock().isoformat(),
            "changes": lambda _i, quantityNames=None: changes,  # noqa: N803
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": []}


def _check_input(input: dict[str, Any]) -> list[tuple[str, list[str] | None, str]]:  # noqa: A002
    errors: list[tuple[str, list[str] | None, str]] = []
    if input["name"] not in ("available", "on_hand"):
        errors.append(("INVALID_NAME", ["input", "name"], "The quantity name is not valid."))
    for i, q in enumerate(input["quantities"]):
        if q["quantity"] < 0:
            errors.append(
                (
                    "INVALID_QUANTITY_NEGATIVE",
                    ["input", "quantities", str(i)],
                    "The quantity can't be negative.",
                )
            )
    return errors


def _idempotency_key(node: FieldNode, variables: dict[str, Any]) -> str | None:
    for directive in node.directives or ():
        if directive.name.value != "idempotent":
            continue
        for argument in directive.arguments or ():
            value = argument.value
            if isinstance(value, StringValueNode):
                return value.value
            name = getattr(getattr(value, "name", None), "value", None)
            return None if name is None else str(variables.get(name))
    return None


def _user_errors(errors: list[tuple[str, list[str] | None, str]]) -> dict[str, Any]:
    return {
        "inventoryAdjustmentGroup": None,
        "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors],
    }


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}
