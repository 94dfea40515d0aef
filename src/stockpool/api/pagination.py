"""Cursor pagination: every list answers a page and the opaque cursor of the next one.

A cursor is the key of the last row of a page, encoded; the next page starts after it, so
rows added meanwhile neither repeat nor shift a page. Lists the services page themselves
pass their own key through; short lists the services return whole (channels, locations,
the newest documents) are paged here, over the service's order.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

from fastapi import Query

from stockpool.api.problems import ApiProblem

T = TypeVar("T")
CursorKey = str | int

Cursor = Annotated[
    str | None,
    Query(max_length=400, description="The `next_cursor` of the previous page."),
]
Limit = Annotated[int, Query(ge=1, le=1000, description="At most this many rows.")]


def encode_cursor(key: CursorKey) -> str:
    """An opaque cursor for a row key."""
    return base64.urlsafe_b64encode(json.dumps([key]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> CursorKey | None:
    """The row key in a cursor (422 when it is not one of ours)."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError, binascii.Error):
        value = None
    if not (isinstance(value, list) and len(value) == 1 and isinstance(value[0], str | int)):
        raise ApiProblem(
            422,
            "validation",
            "the cursor is not one this API gave",
            errors=[{"loc": ["query", "cursor"], "msg": "not a valid cursor"}],
        )
    key: CursorKey = value[0]
    return key


def cursor_text(cursor: str | None) -> str | None:
    """A cursor whose key must be text."""
    key = decode_cursor(cursor)
    return None if key is None else str(key)


def cursor_int(cursor: str | None) -> int | None:
    """A cursor whose key must be a number."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if not isinstance(key, int):
        raise ApiProblem(422, "validation", "the cursor does not belong to this list")
    return key


def paginate(
    rows: Sequence[T], key: Callable[[T], Any], cursor: str | None, limit: int
) -> tuple[list[T], str | None]:
    """A page of `rows` (in increasing `key` order) after the cursor, and the next cursor."""
    after = decode_cursor(cursor)
    remaining = [r for r in rows if after is None or _after(key(r), after)]
    page = remaining[:limit]
    more = len(remaining) > limit
    return page, encode_cursor(key(page[-1])) if more and page else None


def _after(value: Any, after: CursorKey) -> bool:
    try:
        return bool(value > after)
    except TypeError:
        raise ApiProblem(422, "validation", "the cursor does not belong to this list") from None


def next_of(key: CursorKey | None) -> str | None:
    """Encode a next-page key a service gave (None on the last page)."""
    return None if key is None else encode_cursor(key)
