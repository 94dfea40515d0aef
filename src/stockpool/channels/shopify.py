"""The Shopify connector: Admin GraphQL API 2026-04.

Quantities are written with `inventorySetQuantities` on the `available` quantity, with
`changeFromQuantity` (compare-and-set) and a deterministic `@idempotent` key derived from
what is written, so a repeated write is applied once and a changed one gets a new key.
The calculated query cost is read from `extensions.cost.throttleStatus` on every answer;
throttling arrives as a `THROTTLED` error in a 200 answer or as HTTP 429 with Retry-After,
and both become `Throttled`. Orders are read by `updated_at`; webhooks are verified with the
base64 HMAC-SHA256 of the raw body under the current or the previous secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from stockpool.channels.errors import AuthExpired, Rejected, Throttled, Transient
from stockpool.channels.http import post_json
from stockpool.channels.protocol import (
    Capabilities,
    ChannelOrder,
    ChannelOrderLine,
    OrdersPage,
    PushItemResult,
    PushResult,
    PushStatus,
    QuantityPush,
    RateReport,
    RemoteRef,
    WebhookEvent,
)
from stockpool.channels.webhooks import header, verify_base64
from stockpool.services.webhooks_in import BadSignature

API_VERSION = "2026-04"
MAX_BATCH = 250
ORDERS_PAGE = 10
ORDER_LINES = 20
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})

SET_QUANTITIES = """
mutation SetAvailable($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: %s) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
"""

LEVELS = """
query Levels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) {
        quantities(names: ["available"]) { name quantity }
      }
    }
  }
}
"""

ORDER_FIELDS = f"""
fragment OrderParts on Order {{
  id
  updatedAt
  cancelledAt
  lineItems(first: {ORDER_LINES}) {{
    nodes {{ sku currentQuantity variant {{ inventoryItem {{ id }} }} }}
  }}
}}
"""

ORDERS = (
    """
query Orders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderParts }
  }
}
"""
    + ORDER_FIELDS
)

ORDER = "query Order($id: ID!) { order(id: $id) { ...OrderParts } }\n" + ORDER_FIELDS

# User error codes that mean the item or location is not there to write to.
_INVALID = frozenset(
    {
        "INVALID_INVENTORY_ITEM",
        "INVALID_LOCATION",
        "ITEM_NOT_STOCKED_AT_LOCATION",
        "NON_MUTABLE_INVENTORY_ITEM",
    }
)


@dataclass(frozen=True)
class ShopifySettings:
    """How to reach one shop.

    Attributes:
        shop: the shop's domain, e.g. `example.myshopify.com` (webhooks name it).
        base_url: where its Admin API answers, e.g. `https://example.myshopify.com`.
        token: the Admin API access token.
        secrets: webhook signing secrets, current first (a previous one during a rotation).
    """

    shop: str
    base_url: str
    token: str
    secrets: tuple[str, ...]


def idempotency_key(pushes: Sequence[QuantityPush]) -> str:
    """A key that names exactly what a write sets, and the attempt: the same write always
    gets the same key, and a new attempt after a failure a new one."""
    parts = sorted(
        f"{p.listing}|{p.version}|{p.ref.item}|{p.ref.location}|{p.quantity}|{p.change_from}"
        + (f"|{p.attempt}" if p.attempt else "")
        for p in pushes
    )
    return "sp-" + hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def _parse_time(text: str) -> datetime:
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _graphql_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopifyConnector:
    """A Shopify shop, through the Admin GraphQL API on an injected client."""

    def __init__(self, client: httpx.AsyncClient, settings: ShopifySettings) -> None:
        self._client = client
        self._settings = settings
        self._url = f"{settings.base_url.rstrip('/')}/admin/api/{API_VERSION}/graphql.json"
        self._rate: RateReport | None = None

    @property
    def capabilities(self) -> Capabilities:
        """Compare-and-set, idempotency keys, batches of up to `MAX_BATCH`, webhooks."""
        return Capabilities(
            compare_and_set=True, idempotency_keys=True, max_batch=MAX_BATCH, webhooks=True
        )

    @property
    def rate(self) -> RateReport | None:
        """The cost bucket as Shopify reported it last."""
        return self._rate

    async def _call(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        headers = {"X-Shopify-Access-Token": self._settings.token}
        answer = await post_json(
            self._client, self._url, {"query": query, "variables": dict(variables)}, headers=headers
        )
        if not isinstance(answer, dict):
            raise Transient("Shopify answered with something other than a JSON object")
        self._read_cost(answer)
        errors = answer.get("errors")
        if errors:
            self._raise_errors(errors)
        data = answer.get("data")
        if not isinstance(data, dict):
            raise Transient("Shopify answered without data")
        return data

    def _read_cost(self, answer: Mapping[str, Any]) -> None:
        cost = (answer.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus")
        if not status:
            return
        spent = cost.get("actualQueryCost")
        self._rate = RateReport(
            maximum=float(status["maximumAvailable"]),
            available=float(status["currentlyAvailable"]),
            restore_rate=float(status["restoreRate"]),
            cost=float(spent if spent is not None else cost.get("requestedQueryCost") or 0),
        )

    def _raise_errors(self, errors: Any) -> None:
        if isinstance(errors, str):
            raise Rejected(f"Shopify: {errors}")
        codes = [((e.get("extensions") or {}).get("code"), e.get("message", "")) for e in errors]
        for code, message in codes:
            if code == "THROTTLED":
                raise Throttled(f"Shopify: {message}", retry_after=self._throttle_wait())
            if code in ("ACCESS_DENIED", "UNAUTHORIZED"):
                raise AuthExpired(f"Shopify: {message}")
            if code == "INTERNAL_SERVER_ERROR":
                raise Transient(f"Shopify: {message}")
        raise Rejected("Shopify: " + "; ".join(message for _, message in codes))

    def _throttle_wait(self) -> float:
        rate = self._rate
        if rate is None or rate.restore_rate <= 0:
            return 1.0
        return max(0.0, (rate.cost - rate.available) / rate.restore_rate)

    async def push_quantities(self, pushes: Sequence[QuantityPush]) -> PushResult:
        """Set `available` of each item at its location, compare-and-set, idempotently."""
        if not pushes:
            return PushResult((), None)
        if len(pushes) > MAX_BATCH:
            raise ValueError(f"at most {MAX_BATCH} quantities per write")
        # One order for one set of pushes: the same key must always come with the same
        # variables, or Shopify refuses it as a parameter mismatch.
        order = sorted(range(len(pushes)), key=lambda i: (pushes[i].ref, pushes[i].listing))
        given, pushes = pushes, [pushes[i] for i in order]
        key = idempotency_key(pushes)
        variables = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"stockpool://sync/{key}",
                "quantities": [
                    {
                        "inventoryItemId": p.ref.item,
                        "locationId": p.ref.location,
                        "quantity": p.quantity,
                        "changeFromQuantity": p.change_from,
                    }
                    for p in pushes
                ],
            }
        }
        data = await self._call(SET_QUANTITIES % json.dumps(key), variables)
        payload = data.get("inventorySetQuantities") or {}
        errors = payload.get("userErrors") or []
        if not errors:
            group = payload.get("inventoryAdjustmentGroup") or {}
            applied = tuple(PushItemResult(p, PushStatus.APPLIED) for p in given)
            return PushResult(applied, group.get("id") or key)
        outcomes = dict(zip(order, _classify(pushes, errors), strict=True))
        return PushResult(tuple(outcomes[i] for i in range(len(given))), None)

    async def fetch_quantities(self, refs: Sequence[RemoteRef]) -> dict[RemoteRef, int | None]:
        """`available` of each item at its location (None when Shopify does not stock it)."""
        found: dict[RemoteRef, int | None] = {ref: None for ref in refs}
        by_location: dict[str, list[RemoteRef]] = {}
        for ref in refs:
            by_location.setdefault(ref.location, []).append(ref)
        for location, group in sorted(by_location.items()):
            for start in range(0, len(group), MAX_BATCH):
                part = group[start : start + MAX_BATCH]
                data = await self._call(
                    LEVELS, {"ids": [r.item for r in part], "locationId": location}
                )
                for node in data.get("nodes") or []:
                    if node and node.get("inventoryLevel"):
                        quantities = node["inventoryLevel"]["quantities"]
                        value = next(q["quantity"] for q in quantities if q["name"] == "available")
                        found[RemoteRef(node["id"], location)] = int(value)
        return found

    async def fetch_orders(self, since: datetime, *, cursor: str | None = None) -> OrdersPage:
        """Orders updated at or after `since`, by update time, `ORDERS_PAGE` at a time."""
        variables = {
            "first": ORDERS_PAGE,
            "after": cursor,
            "query": f"updated_at:>='{_graphql_time(since)}'",
        }
        data = await self._call(ORDERS, variables)
        connection = data["orders"]
        info = connection["pageInfo"]
        orders = tuple(_order(node) for node in connection["nodes"])
        return OrdersPage(orders, info["endCursor"] if info["hasNextPage"] else None)

    async def fetch_order(self, external_id: str) -> ChannelOrder | None:
        """One order by its id (`gid://shopify/Order/...`)."""
        data = await self._call(ORDER, {"id": external_id})
        node = data.get("order")
        return None if node is None else _order(node)

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> str:
        """Check `X-Shopify-Hmac-Sha256`; the delivery id is `X-Shopify-Webhook-Id`."""
        return verify_webhook(headers, body, self._settings.secrets)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> WebhookEvent:
        """Topic, delivery, shop, and for order topics the order's id and update time."""
        topic = header(headers, "X-Shopify-Topic") or ""
        order_id = updated_at = None
        if topic in ORDER_TOPICS:
            payload = json.loads(body)
            order_id = payload.get("admin_graphql_api_id") or f"gid://shopify/Order/{payload['id']}"
            updated_at = _parse_time(payload["updated_at"]) if payload.get("updated_at") else None
        return WebhookEvent(
            topic=topic,
            delivery_id=header(headers, "X-Shopify-Webhook-Id") or "",
            shop=header(headers, "X-Shopify-Shop-Domain") or "",
            order_id=order_id,
            updated_at=updated_at,
        )


def verify_webhook(headers: Mapping[str, str], body: bytes, secrets: Sequence[str]) -> str:
    """Check a Shopify webhook's signature and return its delivery id.

    Raises:
        BadSignature: the signature is missing or made with none of `secrets`, or the
            delivery has no `X-Shopify-Webhook-Id`.
    """
    signature = header(headers, "X-Shopify-Hmac-Sha256")
    if not verify_base64(body, signature, secrets):
        raise BadSignature("the Shopify webhook signature does not verify")
    delivery = header(headers, "X-Shopify-Webhook-Id")
    if not delivery:
        raise BadSignature("the Shopify webhook has no X-Shopify-Webhook-Id")
    return delivery


def _classify(
    pushes: Sequence[QuantityPush], errors: list[dict[str, Any]]
) -> tuple[PushItemResult, ...]:
    """Per-quantity outcomes of a refused write (Shopify applies all of it or none)."""
    blamed: dict[int, tuple[PushStatus, str]] = {}
    general: list[str] = []
    for error in errors:
        code, message = error.get("code"), error.get("message", "")
        index = _index_of(error.get("field"))
        if code == "CHANGE_FROM_QUANTITY_STALE":
            status = PushStatus.STALE
        elif code in _INVALID:
            status = PushStatus.INVALID
        elif code in ("IDEMPOTENCY_CONCURRENT_REQUEST",):
            status = PushStatus.NOT_APPLIED
        else:
            status = PushStatus.REJECTED
        if index is None or index >= len(pushes):
            general.append(f"{code}: {message}")
            if status is not PushStatus.STALE:
                blamed.update({i: (status, f"{code}: {message}") for i in range(len(pushes))})
        else:
            blamed[index] = (status, f"{code}: {message}")
    results = []
    for i, push in enumerate(pushes):
        status, message = blamed.get(i, (PushStatus.NOT_APPLIED, "; ".join(general)))
        results.append(PushItemResult(push, status, message))
    return tuple(results)


def _index_of(field: Any) -> int | None:
    if not isinstance(field, list):
        return None
    for part in field:
        if isinstance(part, str) and part.isdigit():
            return int(part)
    return None


def _order(node: Mapping[str, Any]) -> ChannelOrder:
    lines = []
    for line in node["lineItems"]["nodes"]:
        variant = line.get("variant") or {}
        item = (variant.get("inventoryItem") or {}).get("id")
        if item is None:
            continue  # a custom line with no product: nothing of ours to count
        lines.append(ChannelOrderLine(item, int(line["currentQuantity"]), line.get("sku")))
    return ChannelOrder(
        external_id=node["id"],
        updated_at=_parse_time(node["updatedAt"]),
        cancelled=node.get("cancelledAt") is not None,
        lines=tuple(lines),
    )
