"""CSV import and export on both stores: every error case changes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockpool.domain.csv_formats import BadFile, BadRows
from stockpool.domain.errors import StockpoolError
from stockpool.domain.purchasing import PoStatus
from stockpool.domain.quantities import UnavailableReason
from stockpool.services import catalog, exports, imports, po_imports, purchasing, stock
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify
from tests.dbsnapshot import snapshot

ME = Actor("importer", "file.csv")


@pytest.fixture
def shop(app: Services) -> Services:
    catalog.add_location(app, "WH1", "Main warehouse", "warehouse")
    catalog.add_location(app, "WH2", "East 3PL", "3pl")
    catalog.add_item(app, "TEE", "Tee")
    catalog.add_item(app, "CAP", "Cap")
    stock.receive(app, "TEE", "WH1", 10, actor=ME)
    stock.reclassify(app, "TEE", "WH1", 3, source=None, target=UnavailableReason.DAMAGED, actor=ME)
    return app


def levels(app: Services, sku: str) -> dict[str, tuple[int, int]]:
    return {loc: (s.on_hand, s.available) for loc, s in stock.stock_of(app, sku)}


def test_a_stock_file_sets_on_hand_with_count_movements(shop: Services) -> None:
    data = "\ufeffSKU,Location,On Hand\r\nTEE,WH1,12\r\nCAP,WH2,4\r\nCAP,WH1,0\r\n".encode()
    report = imports.import_stock(shop, data, name="file.csv", actor=ME)
    assert (report.rows, report.imported, report.unchanged) == (3, 2, 1)
    assert levels(shop, "TEE") == {"WH1": (12, 9)}
    assert levels(shop, "CAP") == {"WH1": (0, 0), "WH2": (4, 4)}
    moves = stock.movements_of(shop, "TEE", limit=1)
    assert [(m.kind.value, m.quantity, m.reference) for m in moves] == [("count", 2, "file.csv")]
    assert verify(shop).clean


STOCK_ERRORS: dict[str, tuple[bytes, type[StockpoolError], str]] = {
    "missing column": (b"sku,location\nTEE,WH1\n", BadFile, r"missing column\(s\) on hand"),
    "bad number": (
        b"sku,location,on_hand\nTEE,WH1,12\nCAP,WH1,x\n",
        BadRows,
        "row 3, column on_hand",
    ),
    "unknown sku": (
        b"sku,location,on_hand\nNOPE,WH1,1\n",
        BadRows,
        "row 2, column sku: unknown SKU",
    ),
    "unknown location": (b"sku,location,on_hand\nTEE,XX,1\n", BadRows, "unknown location 'XX'"),
    "duplicate row": (
        b"sku,location,on_hand\nTEE,WH1,1\nCAP,WH1,1\nTEE,WH1,2\n",
        BadRows,
        "row 4, column -: duplicate of row 2",
    ),
    "below unavailable": (b"sku,location,on_hand\nTEE,WH1,2\n", BadRows, "below the 3 units"),
    "wrong encoding": (
        "sku,location,on_hand\nCAP,WH1,1\nTÉE,WH1,1\n".encode("cp1252"),
        BadFile,
        "not UTF-8",
    ),
    "empty file": (b"\xef\xbb\xbf\r\n", BadFile, "is empty"),
    "ragged row": (b"sku,location,on_hand\nTEE,WH1,1,9\n", BadRows, "has 4 cells"),
}


@pytest.mark.parametrize("case", sorted(STOCK_ERRORS))
def test_a_bad_stock_file_changes_nothing(shop: Services, case: str) -> None:
    data, error, message = STOCK_ERRORS[case]
    before = snapshot(shop)
    with pytest.raises(error, match=message):
        imports.import_stock(shop, data, name="file.csv", actor=ME)
    assert snapshot(shop) == before


def test_skip_bad_rows_imports_the_good_ones_and_reports_the_rest(shop: Services) -> None:
    data = b"sku,location,on_hand\nNOPE,WH1,1\nCAP,WH1,x\nCAP,WH2,5\n"
    report = imports.import_stock(shop, data, name="file.csv", actor=ME, skip_bad_rows=True)
    assert report.imported == 1
    assert [str(e) for e in report.skipped] == [
        "row 2, column sku: unknown SKU 'NOPE'",
        "row 3, column on_hand: on_hand must be a whole number of units, got 'x'",
    ]
    assert levels(shop, "CAP") == {"WH2": (5, 5)}


SHOPIFY_HEADER = (
    "Handle,Title,Option1 Name,Option1 Value,Option2 Name,Option2 Value,Option3 Name,"
    "Option3 Value,SKU,HS Code,COO,Location,Incoming,Unavailable,Committed,Available,On hand\r\n"
)


def test_shopify_all_quantity_types_sets_on_hand_by_location_name(shop: Services) -> None:
    data = (
        SHOPIFY_HEADER
        + "tee,Tee,Size,M,,,,,TEE,6109.10,PT,Main warehouse,0,0,1,14,15\r\n"
        + "tee,Tee,Size,M,,,,,TEE,6109.10,PT,East 3PL,0,0,0,not stocked,not stocked\r\n"
        + "cap,Cap,Title,Default Title,,,,,CAP,,,East 3PL,2,0,0,7,7\r\n"
    ).encode()
    report = imports.import_shopify_inventory(shop, data, name="inventory.csv", actor=ME)
    assert (report.rows, report.imported) == (3, 2)
    assert levels(shop, "TEE") == {"WH1": (15, 12)}
    assert levels(shop, "CAP") == {"WH2": (7, 7)}
    assert verify(shop).clean


def test_shopify_available_only_sets_available_and_keeps_held_units(shop: Services) -> None:
    data = (
        b"Handle,Title,Option1 Name,Option1 Value,SKU,HS Code,COO,Main warehouse,East 3PL\n"
        b"tee,Tee,Title,Default Title,TEE,,,20,not stocked\n"
        b"cap,Cap,Title,Default Title,CAP,,,1,2\n"
    )
    imports.import_shopify_inventory(shop, data, name="inventory.csv", actor=ME)
    assert levels(shop, "TEE") == {"WH1": (23, 20)}  # 3 damaged stay on top
    assert levels(shop, "CAP") == {"WH1": (1, 1), "WH2": (2, 2)}


def test_shopify_locations_are_created_only_when_asked(shop: Services) -> None:
    data = SHOPIFY_HEADER + "cap,Cap,Title,Default Title,,,,,CAP,,,Pop-up store #1,0,0,0,3,3\n"
    before = snapshot(shop)
    with pytest.raises(BadRows, match="no location named 'Pop-up store #1'"):
        imports.import_shopify_inventory(shop, data.encode(), name="i.csv", actor=ME)
    assert snapshot(shop) == before
    imports.import_shopify_inventory(
        shop, data.encode(), name="i.csv", actor=ME, create_locations=True
    )
    assert levels(shop, "CAP") == {"Pop-up-store-1": (3, 3)}
    names = {loc.code: loc.name for loc in catalog.list_locations(shop)}
    assert names["Pop-up-store-1"] == "Pop-up store #1"


SHOPIFY_ERRORS: dict[str, tuple[str, type[StockpoolError], str]] = {
    "missing column": ("Handle,SKU,Location\ntee,TEE,Main warehouse\n", BadFile, "On hand"),
    "no sku column": ("Handle,Location,On hand\ntee,Main warehouse,1\n", BadFile, "SKU"),
    "negative": (
        SHOPIFY_HEADER + "t,T,,,,,,,TEE,,,Main warehouse,0,0,0,-2,-2\n",
        BadRows,
        "On hand",
    ),
    "empty sku": (
        SHOPIFY_HEADER + "t,T,,,,,,,,,,Main warehouse,0,0,0,2,2\n",
        BadRows,
        "column SKU",
    ),
    "unknown sku": (
        SHOPIFY_HEADER + "t,T,,,,,,,NOPE,,,Main warehouse,0,0,0,2,2\n",
        BadRows,
        "NOPE",
    ),
}


@pytest.mark.parametrize("case", sorted(SHOPIFY_ERRORS))
def test_a_bad_shopify_file_changes_nothing(shop: Services, case: str) -> None:
    text, error, message = SHOPIFY_ERRORS[case]
    before = snapshot(shop)
    with pytest.raises(error, match=message):
        imports.import_shopify_inventory(shop, text.encode(), name="i.csv", actor=ME)
    assert snapshot(shop) == before


def test_items_and_locations_round_trip_through_their_exports(shop: Services) -> None:
    catalog.update_item(shop, "CAP", title='=HYPERLINK("x")', unit_cost="1.25", tags=["a", "b"])
    items_csv = exports.export_items(shop)
    assert items_csv.startswith("\ufeffsku,title,barcode,unit_cost,price,tags,archived\r\n")
    assert 'CAP,"\'=HYPERLINK(""x"")",,1.2500,,a;b,\r\n' in items_csv
    catalog.update_item(shop, "CAP", title="changed")
    report = imports.import_items(shop, items_csv.encode(), name="items.csv")
    assert report.imported == 2
    cap = catalog.get_item(shop, "CAP")
    assert (cap.title, cap.tags, cap.unit_cost) == ('=HYPERLINK("x")', ("a", "b"), Decimal("1.25"))
    locations_csv = exports.export_locations(shop).replace("East 3PL", "East")
    imports.import_locations(shop, locations_csv.encode(), name="locations.csv")
    assert [loc.name for loc in catalog.list_locations(shop)] == ["Main warehouse", "East"]


def test_the_stock_export_lists_every_level(shop: Services) -> None:
    assert exports.export_stock(shop).splitlines() == [
        "\ufeffsku,location,on_hand,committed,damaged,quality_control,safety_stock,hold,"
        "available,incoming",
        "TEE,WH1,10,0,3,0,0,0,7,0",
    ]


def test_purchase_orders_import_as_drafts_and_export_again(shop: Services) -> None:
    purchasing.add_supplier(shop, "ACME", "Acme")
    data = (
        b"po,supplier,location,sku,quantity,unit_cost,expected\n"
        b"A-1,ACME,WH1,TEE,12,2.50,2026-04-01\nA-1,ACME,WH1,CAP,6,1,2026-04-01\n"
        b"A-2,ACME,WH2,CAP,3,1.10,\n"
    )
    report = po_imports.import_purchase_orders(shop, data, name="po.csv", actor=ME)
    assert report.imported == 3
    orders = purchasing.list_pos(shop)
    assert [(p.reference, p.status, len(p.lines)) for p in orders] == [
        ("A-2", PoStatus.DRAFT, 1),
        ("A-1", PoStatus.DRAFT, 2),
    ]
    assert exports.export_purchase_orders(shop).splitlines()[1:] == [
        "A-1,ACME,WH1,CAP,6,1.0000,2026-04-01,1,draft,0",
        "A-1,ACME,WH1,TEE,12,2.5000,2026-04-01,1,draft,0",
        "A-2,ACME,WH2,CAP,3,1.1000,,2,draft,0",
    ]


def test_a_bad_purchase_order_file_changes_nothing(shop: Services) -> None:
    purchasing.add_supplier(shop, "ACME", "Acme")
    data = (
        b"po,supplier,location,sku,quantity,unit_cost\n"
        b"A-1,ACME,WH1,TEE,12,2.50\nA-1,ACME,WH2,CAP,6,1\nA-2,ACME,WH1,CAP,0,1\n"
    )
    before = snapshot(shop)
    with pytest.raises(BadRows) as raised:
        po_imports.import_purchase_orders(shop, data, name="po.csv", actor=ME)
    assert [str(e) for e in raised.value.errors] == [
        "row 3, column location: differs from row 2 of PO A-1",
        "row 4, column quantity: quantity must be at least 1, got 0",
    ]
    assert snapshot(shop) == before


def test_a_bad_items_file_changes_nothing(shop: Services) -> None:
    data = b"sku,title,unit_cost\nNEW,New thing,1.5\nCAP,Cap,abc\n, No SKU,\n"
    before = snapshot(shop)
    with pytest.raises(BadRows) as raised:
        imports.import_items(shop, data, name="items.csv")
    assert [(e.row, e.column) for e in raised.value.errors] == [(3, "unit_cost"), (4, "sku")]
    assert snapshot(shop) == before


def test_shopify_available_only_with_a_location_column(shop: Services) -> None:
    data = (
        b"Handle,Title,Option1 Name,Option1 Value,SKU,HS Code,COO,Location,Available\n"
        b"tee,Tee,Title,Default Title,TEE,,,Main warehouse,5\n"
        b"cap,Cap,Title,Default Title,CAP,,,Main warehouse,Not stocked\n"
    )
    report = imports.import_shopify_inventory(shop, data, name="i.csv", actor=ME)
    assert (report.imported, report.unchanged) == (1, 0)
    assert levels(shop, "TEE") == {"WH1": (8, 5)}
    assert stock.stock_of(shop, "CAP") == []
