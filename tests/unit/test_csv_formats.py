"""CSV reading and writing: decoding, headers, row errors, spreadsheet-safe cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from stockpool.domain.csv_formats import (
    BadFile,
    BadRows,
    RowError,
    column_key,
    decode,
    escape_cell,
    parse_instant,
    read_table,
    unescape_cell,
    write_table,
)
from stockpool.domain.errors import InvalidInput


def test_a_byte_order_mark_is_dropped() -> None:
    assert decode("\ufeffsku\n".encode(), name="f.csv") == "sku\n"


def test_latin_1_text_is_refused_with_the_offset_of_the_first_bad_byte() -> None:
    with pytest.raises(BadFile, match=r"f.csv is not UTF-8 text \(byte 0xe9 at offset 5\)"):
        decode("sku\nt\xe9\n".encode("latin-1"), name="f.csv")


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\r\n"])
def test_an_empty_file_is_refused(data: bytes) -> None:
    with pytest.raises(BadFile, match="is empty"):
        decode(data, name="f.csv")


def test_column_names_match_whatever_their_case_spaces_and_underscores() -> None:
    assert column_key(" On_Hand ") == column_key("on  hand") == "on hand"


def test_rows_are_numbered_as_a_spreadsheet_numbers_them() -> None:
    table = read_table("SKU,Qty\nA,1\n\nB,2,3\nC,\n", name="f.csv", required=("sku", "qty"))
    assert table.rows == [(2, {"sku": "A", "qty": "1"}), (5, {"sku": "C", "qty": ""})]
    assert table.errors == [RowError(4, "-", "has 3 cells; the header has 2")]


def test_a_missing_column_is_named_with_the_header_found() -> None:
    with pytest.raises(BadFile, match=r"missing column\(s\) qty \(the header has: SKU\)"):
        read_table("SKU\nA\n", name="f.csv", required=("sku", "qty"))


def test_a_repeated_column_is_refused() -> None:
    with pytest.raises(BadFile, match="appear more than once"):
        read_table("sku,SKU\nA,B\n", name="f.csv", required=("sku",))


def test_aliases_name_the_same_column() -> None:
    table = read_table(
        "sku,qty\nA,1\n", name="f", required=("counted",), aliases={"qty": "counted"}
    )
    assert table.rows == [(2, {"sku": "A", "counted": "1"})]


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_formula_like_text_is_escaped_and_read_back(text: str, escaped: str) -> None:
    assert escape_cell(text) == escaped
    assert unescape_cell(escaped) == text


def test_our_own_numbers_are_not_escaped() -> None:
    assert [escape_cell(v) for v in (-3, Decimal("-1.50"), None)] == ["-3", "-1.50", ""]


def test_written_tables_open_as_utf8_with_bom_and_crlf() -> None:
    text = write_table(("sku", "title"), [("A", "=cmd"), ("B", 'say "hi", ok')])
    assert text == '\ufeffsku,title\r\nA,\'=cmd\r\nB,"say ""hi"", ok"\r\n'
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[2] == ["B", 'say "hi", ok']


def test_times_are_read_as_dates_or_iso_instants_in_utc() -> None:
    assert parse_instant("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert parse_instant("2026-03-01T10:00:00") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    plus_two = datetime(2026, 3, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert parse_instant("2026-03-01T12:00:00+02:00") == plus_two
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        parse_instant("01/03/2026")


def test_bad_rows_say_how_many_and_list_the_first_twenty() -> None:
    errors = [RowError(n, "qty", "bad") for n in range(2, 30)]
    message = str(BadRows(errors, rows=40))
    assert message.startswith("28 bad row(s) in 40 data row(s); nothing was imported")
    assert "row 21, column qty: bad" in message
    assert "row 22," not in message
    assert message.endswith("... and 8 more")
