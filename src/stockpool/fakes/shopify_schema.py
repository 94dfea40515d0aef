"""The part of Shopify's Admin GraphQL schema (2026-04) that the fake serves.

Every document sent to the fake is parsed and validated against this schema, so a field,
argument or type our connector gets wrong fails here as it would on Shopify. Field costs
follow Shopify's calculated query cost in outline: an object costs 1, a scalar 0, a
connection 2 plus `first` times its nodes, a mutation 10.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
)

SDL = """
directive @idempotent(key: String!) on FIELD

scalar DateTime

interface Node { id: ID! }

type Query {
  nodes(ids: [ID!]!): [Node]!
  order(id: ID!): Order
  orders(first: Int, after: String, query: String, sortKey: OrderSortKeys,
         reverse: Boolean): OrderConnection!
  inventoryItem(id: ID!): InventoryItem
}

type Mutation {
  inventorySetQuantities(input: InventorySetQuantitiesInput!): InventorySetQuantitiesPayload
}

enum OrderSortKeys { CREATED_AT ID UPDATED_AT }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

type InventoryItem implements Node {
  id: ID!
  sku: String
  inventoryLevel(locationId: ID!): InventoryLevel
}

type InventoryLevel implements Node {
  id: ID!
  quantities(names: [String!]!): [InventoryQuantity!]!
  location: Location!
}

type InventoryQuantity { name: String! quantity: Int! }

type Location implements Node { id: ID! name: String! }

type ProductVariant implements Node { id: ID! sku: String inventoryItem: InventoryItem! }

type LineItem {
  id: ID!
  sku: String
  quantity: Int!
  currentQuantity: Int!
  variant: ProductVariant
}

type LineItemConnection { nodes: [LineItem!]! pageInfo: PageInfo! }

type Order implements Node {
  id: ID!
  name: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  cancelledAt: DateTime
  lineItems(first: Int, after: String): LineItemConnection!
}

type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }

input InventorySetQuantityInput {
  inventoryItemId: ID!
  locationId: ID!
  quantity: Int!
  changeFromQuantity: Int
}

input InventorySetQuantitiesInput {
  name: String!
  reason: String!
  referenceDocumentUri: String
  quantities: [InventorySetQuantityInput!]!
}

type InventoryChange {
  name: String!
  delta: Int!
  quantityAfterChange: Int
  item: InventoryItem
  location: Location
}

type InventoryAdjustmentGroup {
  id: ID!
  reason: String!
  referenceDocumentUri: String
  createdAt: DateTime!
  changes(quantityNames: [String!]): [InventoryChange!]!
}

enum InventorySetQuantitiesUserErrorCode {
  CHANGE_FROM_QUANTITY_STALE
  CHANGE_FROM_QUANTITY_REQUIRED
  IDEMPOTENCY_CONCURRENT_REQUEST
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH
  IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED
  INVALID_INVENTORY_ITEM
  INVALID_LOCATION
  INVALID_NAME
  INVALID_QUANTITY_NEGATIVE
  INVALID_REASON
  ITEM_NOT_STOCKED_AT_LOCATION
  NON_MUTABLE_INVENTORY_ITEM
}

type InventorySetQuantitiesUserError {
  code: InventorySetQuantitiesUserErrorCode
  field: [String!]
  message: String!
}

type InventorySetQuantitiesPayload {
  inventoryAdjustmentGroup: InventoryAdjustmentGroup
  userErrors: [InventorySetQuantitiesUserError!]!
}
"""

MUTATION_COST = 10


def build() -> GraphQLSchema:
    """The schema, with `Node` resolved by the `__typename` key of each value."""
    schema = build_schema(SDL)
    node = schema.get_type("Node")
    node.resolve_type = lambda value, *_: value["__typename"]  # type: ignore[union-attr]
    return schema


def query_cost(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    """The requested cost of an operation."""
    if operation.operation.value == "mutation":
        return MUTATION_COST
    return max(1, _selection_cost(operation.selection_set, fragments, variables))


def _selection_cost(
    selection: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> int:
    if selection is None:
        return 0
    total = 0
    for node in selection.selections:
        if isinstance(node, FieldNode):
            total += _field_cost(node, fragments, variables)
        elif isinstance(node, InlineFragmentNode):
            total += _selection_cost(node.selection_set, fragments, variables)
        elif isinstance(node, FragmentSpreadNode):
            fragment = fragments[node.name.value]
            total += _selection_cost(fragment.selection_set, fragments, variables)
    return total


def _field_cost(
    node: FieldNode, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]
) -> int:
    inner = _selection_cost(node.selection_set, fragments, variables)
    if node.selection_set is None:
        return 0
    arguments = {a.name.value: a.value for a in node.arguments or ()}
    if node.name.value == "nodes" and "ids" in arguments:
        ids = arguments["ids"]
        count = len(variables.get(ids.name.value) or []) if isinstance(ids, VariableNode) else 1
        return 1 + count * max(1, inner)
    first = arguments.get("first")
    if first is None:
        return 1 + inner
    if isinstance(first, VariableNode):
        size = int(variables.get(first.name.value) or 0)
    elif isinstance(first, IntValueNode):
        size = int(first.value)
    else:
        size = 0
    return 2 + size * max(1, inner)
