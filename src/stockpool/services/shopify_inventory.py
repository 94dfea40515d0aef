"""Shopify's inventory CSV export, read as on-hand (or available) figures per location.

Shopify exports one of two layouts (Products > Inventory > Export):

- "All quantity types": one row per variant and location, with the columns Handle, Title,
  Option1..3 Name/Value, SKU, HS Code, COO, Location (and Bin name in newer exports), then
  Incoming, Unavailable, Committed, Available and On hand. Edited files may carry
  "On hand (new)" next to "On hand (current)"; the new figure wins.
- "Available only": the same identifying columns and an Available figure per location,
  either as a Location and an Available column, or as one column per location named after
  it (older exports).

A cell reading "not stocked" means the variant is never stocked at that location: it is
left alone. Items are matched by SKU; locations by name (see `services.imports`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from stockpool.domain.catalog import require_sku
from stockpool.domain.csv_formats import (
    BadFile,
    CsvTable,
    RowError,
    check_cell,
    check_unique,
    column_key,
)
from stockpool.domain.ids import Sku
from stockpool.domain.quantities import parse_units

IDENTIFYING = frozenset(
    column_key(c)
    for c in (
        "Handle",
        "Title",
        "Option1 Name",
        "Option1 Value",
        "Option2 Name",
        "Option2 Value",
        "Option3 Name",
        "Option3 Value",
        "SKU",
        "HS Code",
        "COO",
        "Location",
        "Bin name",
        "Incoming",
        "Unavailable",
        "Committed",
        "Available",
        "On hand",
        "On hand (current)",
        "On hand (new)",
    )
)
NOT_STOCKED = "not stocked"


@dataclass(frozen=True)
class ShopifyFigure:
    """One location's figure for one SKU, from one row.

    Attributes:
        row: the row number in the file.
        sku: the variant's SKU.
        location: the Shopify location's name.
        quantity: the figure.
        available_only: whether it is Available (else On hand).
        column: the column it came from, for messages.
    """

    row: int
    sku: Sku
    location: str
    quantity: int
    available_only: bool
    column: str


def _quantity_column(table: CsvTable) -> tuple[str, bool]:
    for name, available_only in (
        ("on hand (new)", False),
        ("on hand", False),
        ("available", True),
    ):
        if table.has(name):
            return name, available_only
    raise BadFile("missing column(s) On hand or Available: not a Shopify inventory export")


def _figure(errors: list[RowError], row: int, column: str, text: str) -> int | None:
    if not text:
        errors.append(RowError(row, column, "is empty (write a number or 'not stocked')"))
        return None
    units = partial(parse_units, what=column, allow_zero=True)
    return check_cell(errors, row, column, units, text)


def read_shopify(table: CsvTable) -> tuple[list[ShopifyFigure], list[RowError]]:
    """The figures of a Shopify inventory export, and its bad rows.

    Raises:
        BadFile: neither layout fits (no SKU column, no quantity column).
    """
    if not table.has("sku"):
        raise BadFile("missing column(s) SKU: not a Shopify inventory export")
    if table.has("location"):
        column, available_only = _quantity_column(table)
        per_row = [("location", column)]
    else:
        per_row = [(h, h) for h in (column_key(n) for n in table.header) if h not in IDENTIFYING]
        available_only = True
        if not per_row:
            raise BadFile("missing column(s) Location, On hand: not a Shopify inventory export")
    errors = list(table.errors)
    figures: list[ShopifyFigure] = []
    seen: dict[tuple[str, ...], int] = {}
    names = {column_key(h): h for h in table.header}
    for number, cells in table.rows:
        sku = check_cell(errors, number, "SKU", require_sku, cells["sku"])
        if sku is None:
            continue
        for place_column, quantity_column in per_row:
            location = cells[place_column] if place_column == "location" else names[place_column]
            text = cells[quantity_column]
            if text.casefold() == NOT_STOCKED:
                continue
            if not location:
                errors.append(RowError(number, "Location", "is empty"))
                continue
            display = names.get(quantity_column, quantity_column)
            quantity = _figure(errors, number, display, text)
            if quantity is not None and check_unique(errors, seen, number, (sku, location)):
                figures.append(
                    ShopifyFigure(number, sku, location, quantity, available_only, display)
                )
    return figures, errors
