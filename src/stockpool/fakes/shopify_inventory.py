"""The fake Shopify's inventory: levels of inventory items at locations, and the
`inventorySetQuantities` mutation with compare-and-set and idempotency keys.

A write sets `available` of each (item, location) it names, all or nothing: any user error
(unknown item, item not stocked at the location, no `changeFromQuantity`, a stale one, a
negative quantity) applies none of it. The answer to an `@idempotent` key is kept: the
same key with the same input gets the first answer again, with other input a mismatch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import FieldNode, GraphQLError, StringValueNode

UserError = tuple[str, list[str] | None, str]


@dataclass
class InventoryBook:
    """Every inventory level of the fake shop, and the answers given to idempotency keys."""

    levels: dict[tuple[str, str], int] = field(default_factory=dict)
    skus: dict[str, str] = field(default_factory=dict)
    answers: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    groups: int = 0

    def knows(self, item: str) -> bool:
        """Whether the item is stocked anywhere."""
        return any(key[0] == item for key in self.levels)

    def item_node(self, item: str) -> dict[str, Any] | None:
        """An inventory item as a GraphQL value (None if unknown)."""
        if not self.knows(item):
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

    def set_quantities(
        self,
        info: Any,
        input: dict[str, Any],
        now: datetime,  # noqa: A002
    ) -> dict[str, Any]:
        """The `inventorySetQuantities` resolver: idempotent by the directive's key."""
        key = _idempotency_key(info.field_nodes[0], info.variable_values)
        if key is None:
            raise GraphQLError("The @idempotent directive is required for this mutation.")
        fingerprint = json.dumps(input, sort_keys=True)
        if key in self.answers:
            seen, payload = self.answers[key]
            if seen == fingerprint:
                return payload
            message = "The same idempotency key cannot be used with different parameters."
            return _user_errors([("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None, message)])
        payload = self._apply(input, now)
        self.answers[key] = (fingerprint, payload)
        return payload

    def _apply(self, input: dict[str, Any], now: datetime) -> dict[str, Any]:  # noqa: A002
        quantities = input["quantities"]
        errors = _check_input(input)
        for i, q in enumerate(quantities):
            errors.extend(self._check_quantity(["input", "quantities", str(i)], q))
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
        self.groups += 1
        group = {
            "id": f"gid://shopify/InventoryAdjustmentGroup/{self.groups}",
            "reason": input["reason"],
            "referenceDocumentUri": input.get("referenceDocumentUri"),
            "createdAt": now.isoformat(),
            "changes": _changes(changes),
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    def _check_quantity(self, path: list[str], q: dict[str, Any]) -> list[UserError]:
        where = (q["inventoryItemId"], q["locationId"])
        if not self.knows(where[0]):
            message = "The specified inventory item could not be found."
            return [("INVALID_INVENTORY_ITEM", [*path, "inventoryItemId"], message)]
        if where not in self.levels:
            message = "The item is not stocked at the location."
            return [("ITEM_NOT_STOCKED_AT_LOCATION", [*path, "locationId"], message)]
        if "changeFromQuantity" not in q:
            message = "changeFromQuantity must be given (null opts out)."
            return [("CHANGE_FROM_QUANTITY_REQUIRED", path, message)]
        expected = q["changeFromQuantity"]
        if expected is not None and expected != self.levels[where]:
            message = "The changeFromQuantity value does not match persisted value."
            return [("CHANGE_FROM_QUANTITY_STALE", [*path, "changeFromQuantity"], message)]
        return []


def _changes(changes: list[dict[str, Any]]) -> Callable[..., list[dict[str, Any]]]:
    def resolve(_info: Any, quantityNames: list[str] | None = None) -> list[dict[str, Any]]:  # noqa: N803
        del quantityNames
        return changes

    return resolve


def _check_input(input: dict[str, Any]) -> list[UserError]:  # noqa: A002
    errors: list[UserError] = []
    if input["name"] not in ("available", "on_hand"):
        errors.append(("INVALID_NAME", ["input", "name"], "The quantity name is not valid."))
    for i, q in enumerate(input["quantities"]):
        if q["quantity"] < 0:
            path = ["input", "quantities", str(i)]
            errors.append(("INVALID_QUANTITY_NEGATIVE", path, "The quantity can't be negative."))
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


def _user_errors(errors: list[UserError]) -> dict[str, Any]:
    return {
        "inventoryAdjustmentGroup": None,
        "userErrors": [{"code": c, "field": f, "message": m} for c, f, m in errors],
    }
