"""CSV files as people exchange them: decoding, headers, per-row errors and safe cells.

A file is read whole before anything is written. Problems of the whole file (not UTF-8,
empty, a required column missing) are `BadFile`; problems of single rows are collected as
`RowError`s naming the row (the header is row 1, as a spreadsheet numbers it), the column
and the reason, so that one run reports every bad row at once.

Cells written for a spreadsheet never start with a character that makes it evaluate a
formula (`=`, `+`, `-`, `@`, tab, carriage return): such text gets a leading `'`, which
spreadsheets hide and which `read_table` strips again on import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar

from stockpool.domain.errors import InvalidInput

T = TypeVar("T")
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_REPORTED_ERRORS = 20


class BadFile(InvalidInput):
    """A file that cannot be read as the expected CSV at all."""


@dataclass(frozen=True)
class RowError:
    """One bad row: where it is and why it is bad.

    Attributes:
        row: the row number as a spreadsheet shows it (the header is row 1).
        column: the column at fault ("-" when the row as a whole is).
        reason: what is wrong, in words.
    """

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


class BadRows(InvalidInput):
    """A file with bad rows, imported without `--skip-bad-rows`: nothing was written."""

    def __init__(self, errors: Sequence[RowError], *, rows: int) -> None:
        self.errors = list(errors)
        shown = "\n".join(f"  {e}" for e in self.errors[:MAX_REPORTED_ERRORS])
        more = len(self.errors) - MAX_REPORTED_ERRORS
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(
            f"{len(self.errors)} bad row(s) in {rows} data row(s); nothing was imported "
            f"(fix them, or pass --skip-bad-rows to import the others):\n{shown}{tail}"
        )


def column_key(name: str) -> str:
    """How column names are matched: case, spaces and underscores do not matter."""
    return " ".join(name.replace("_", " ").split()).casefold()


def decode(data: bytes, *, name: str) -> str:
    """The text of a CSV file: UTF-8, with or without a byte-order mark.

    Raises:
        BadFile: the file is empty or is not UTF-8.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadFile(
            f"{name} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save it as 'CSV UTF-8'"
        ) from None
    text = text.removeprefix(BOM)
    if not text.strip():
        raise BadFile(f"{name} is empty: expected a header row and data rows")
    return text


@dataclass(frozen=True)
class CsvTable:
    """The rows of a CSV file, each as (row number, cells by column key)."""

    header: tuple[str, ...]
    rows: list[tuple[int, dict[str, str]]]
    errors: list[RowError]

    def has(self, column: str) -> bool:
        """Whether the file has a column (matched by `column_key`)."""
        return column_key(column) in {column_key(h) for h in self.header}


def unescape_cell(text: str) -> str:
    """Undo `escape_cell`: drop the `'` that protects a formula-like cell."""
    if text[:1] == "'" and text[1:2] in FORMULA_START:
        return text[1:]
    return text


def read_table(
    text: str,
    *,
    name: str,
    required: Sequence[str],
    aliases: Mapping[str, str] | None = None,
) -> CsvTable:
    """Split CSV text into rows keyed by column, checking the header first.

    Args:
        text: the decoded file (see `decode`).
        name: the file's name, for messages.
        required: column keys that must be present.
        aliases: other names accepted for a column (alias key -> column key).

    Raises:
        BadFile: unreadable CSV, duplicate or missing columns.
    """
    renames = {column_key(k): column_key(v) for k, v in (aliases or {}).items()}
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BadFile(f"{name} is not valid CSV: {exc}") from None
    header = tuple(cell.strip() for cell in records[0])
    keys = [renames.get(column_key(h), column_key(h)) for h in header]
    duplicated = sorted({h for h, k in zip(header, keys, strict=True) if keys.count(k) > 1})
    if duplicated:
        raise BadFile(f"{name}: column(s) {', '.join(duplicated)} appear more than once")
    missing = [c for c in required if c not in keys]
    if missing:
        raise BadFile(
            f"{name}: missing column(s) {', '.join(missing)} (the header has: "
            f"{', '.join(header) or 'nothing'})"
        )
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) != len(keys):
            errors.append(
                RowError(number, "-", f"has {len(record)} cells; the header has {len(keys)}")
            )
            continue
        cells = {k: unescape_cell(v.strip()) for k, v in zip(keys, record, strict=True)}
        rows.append((number, cells))
    return CsvTable(header, rows, errors)


def parse_instant(text: str, *, what: str = "date") -> datetime:
    """A point in time from `YYYY-MM-DD` (midnight UTC) or ISO 8601 (UTC if no offset)."""
    cleaned = text.strip()
    try:
        if len(cleaned) == 10:
            day = date.fromisoformat(cleaned)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise InvalidInput(f"{what} must be YYYY-MM-DD or an ISO 8601 time, got {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def escape_cell(value: object) -> str:
    """A cell as text a spreadsheet shows and never evaluates."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)  # our own numbers: a sign here is a sign, not a formula
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text for a spreadsheet: byte-order mark, CRLF rows, every cell escaped."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([escape_cell(h) for h in header])
    writer.writerows([escape_cell(v) for v in row] for row in rows)
    return BOM + buffer.getvalue()


def check_cell(
    errors: list[RowError], row: int, column: str, parse: Callable[[str], T], text: str
) -> T | None:
    """Parse one cell, or record why it is bad and return None."""
    try:
        return parse(text)
    except InvalidInput as exc:
        errors.append(RowError(row, column, str(exc)))
        return None


def check_unique(
    errors: list[RowError], seen: dict[tuple[str, ...], int], row: int, key: tuple[str, ...]
) -> bool:
    """Whether `key` is new in this file; a repeat is a bad row naming the first one."""
    first = seen.setdefault(key, row)
    if first != row:
        errors.append(RowError(row, "-", f"duplicate of row {first} ({' at '.join(key)})"))
        return False
    return True
