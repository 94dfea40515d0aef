"""Identifiers of the catalog, as distinct types so that a swapped argument is a type error.

A SKU is the case-sensitive key people use; a location and a channel are named by a short
code. The store keeps its own integer keys; the domain speaks in these names only.
"""

from typing import NewType

Sku = NewType("Sku", str)
LocationCode = NewType("LocationCode", str)
ChannelCode = NewType("ChannelCode", str)
ListingId = NewType("ListingId", str)
