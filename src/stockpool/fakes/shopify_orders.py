"""The fake Shopify's orders: created by its customers, cancelled by the merchant.

Each change moves the order's `updated_at` strictly forward (Shopify orders are ordered by
it), so a later snapshot is always recognisably newer. Orders are served as GraphQL values
(`node`, `connection`, filtered by `updated_at:>=` and sorted by update time) and as the REST
payload that order webhooks carry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

_FILTER = re.compile(r"updated_at:(>=|>)'?([0-9T:\-.+Z]+)'?")
_TICK = timedelta(milliseconds=1)


@dataclass
class FakeLine:
    """One line: an inventory item, ordered and current (after removals) quantities."""

    number: int
    item: str
    sku: str | None
    quantity: int
    current: int


@dataclass
class FakeOrder:
    """One order of the fake shop."""

    number: int
    location: str
    created_at: datetime
    updated_at: datetime
    lines: list[FakeLine]
    cancelled_at: datetime | None = None

    @property
    def gid(self) -> str:
        """Its GraphQL id."""
        return f"gid://shopify/Order/{self.number}"

    def webhook_payload(self) -> dict[str, Any]:
        """The order as order webhooks carry it (REST field names)."""
        return {
            "id": self.number,
            "admin_graphql_api_id": self.gid,
            "name": f"#{self.number}",
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "cancelled_at": None if self.cancelled_at is None else self.cancelled_at.isoformat(),
            "line_items": [
                {
                    "id": line.number,
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "current_quantity": line.current,
                    "variant_id": line.number,
                }
                for line in self.lines
            ],
        }


def _line_node(line: FakeLine) -> dict[str, Any]:
    item = {
        "__typename": "InventoryItem",
        "id": line.item,
        "sku": line.sku,
        "inventoryLevel": lambda _info, locationId: None,
    }  # noqa: N803
    variant = {
        "__typename": "ProductVariant",
        "id": f"gid://shopify/ProductVariant/{line.number}",
        "sku": line.sku,
        "inventoryItem": item,
    }
    return {
        "id": f"gid://shopify/LineItem/{line.number}",
        "sku": line.sku,
        "quantity": line.quantity,
        "currentQuantity": line.current,
        "variant": variant,
    }


def _page(nodes: list[dict[str, Any]], start: int, size: int) -> dict[str, Any]:
    part = nodes[start : start + size]
    end = start + len(part)
    return {
        "nodes": part,
        "pageInfo": {
            "hasNextPage": end < len(nodes),
            "hasPreviousPage": start > 0,
            "startCursor": str(start) if part else None,
            "endCursor": str(end) if part else None,
        },
    }


@dataclass
class OrderBook:
    """Every order of the fake shop, by GraphQL id."""

    orders: dict[str, FakeOrder] = field(default_factory=dict)
    _numbers: int = 1000
    _lines: int = 0

    def create(
        self, lines: list[tuple[str, str | None, int]], location: str, now: datetime
    ) -> FakeOrder:
        """A new order of `lines` (item, sku, quantity) from `location`."""
        self._numbers += 1
        made = []
        for item, sku, qty in lines:
            self._lines += 1
            made.append(FakeLine(self._lines, item, sku, qty, qty))
        order = FakeOrder(self._numbers, location, now, now, made)
        self.orders[order.gid] = order
        return order

    def cancel(self, gid: str, now: datetime) -> FakeOrder:
        """Cancel an order (KeyError if unknown, ValueError if already cancelled)."""
        order = self.orders[gid]
        if order.cancelled_at is not None:
            raise ValueError(f"order {gid} is already cancelled")
        order.updated_at = max(now, order.updated_at + _TICK)
        order.cancelled_at = order.updated_at
        return order

    def node(self, gid: str, levels: object) -> dict[str, Any] | None:
        """An order as a GraphQL value (None if unknown)."""
        del levels
        order = self.orders.get(gid)
        if order is None:
            return None
        nodes = [_line_node(line) for line in order.lines]
        return {
            "__typename": "Order",
            "id": order.gid,
            "name": f"#{order.number}",
            "createdAt": order.created_at.isoformat(),
            "updatedAt": order.updated_at.isoformat(),
            "cancelledAt": None if order.cancelled_at is None else order.cancelled_at.isoformat(),
            "lineItems": lambda _info, first=None, after=None: _page(
                nodes, int(after or 0), int(first or 50)
            ),
        }

    def connection(
        self, *, first: int, after: str | None, query: str, levels: object
    ) -> dict[str, Any]:
        """Orders matching an `updated_at:>=...` query, oldest update first, one page."""
        wanted = sorted(self.orders.values(), key=lambda o: (o.updated_at, o.number))
        match = _FILTER.search(query)
        if match:
            bound = datetime.fromisoformat(match.group(2).replace("Z", "+00:00"))
            bound = bound if bound.tzinfo else bound.replace(tzinfo=UTC)
            inclusive = match.group(1) == ">="
            wanted = [
                o for o in wanted if o.updated_at > bound or (inclusive and o.updated_at == bound)
            ]
        nodes = [n for n in (self.node(o.gid, levels) for o in wanted) if n is not None]
        return _page(nodes, int(after or 0), first)
