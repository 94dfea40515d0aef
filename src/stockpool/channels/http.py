"""The HTTP handling every connector shares: send, and classify what went wrong.

Transport failures (timeouts, resets, refused connections) are `Transient`; 401 and 403 are
`AuthExpired`; 429 is `Throttled` with the channel's `Retry-After`; other 5xx are
`Transient`; other 4xx are `Rejected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from stockpool.channels.errors import AuthExpired, Rejected, Throttled, Transient

DEFAULT_RETRY_AFTER = 1.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date).

    Args:
        value: the header's value, or None when it is absent.
        now: the current time, for the date form (defaults to the system clock).

    Returns:
        The wait in seconds, never negative; `DEFAULT_RETRY_AFTER` when absent or unreadable.
    """
    if value is None or not value.strip():
        return DEFAULT_RETRY_AFTER
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def raise_for_status(response: httpx.Response) -> None:
    """Raise the classified error of a non-2xx response."""
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = f"HTTP {status}: {response.text[:300]}"
    if status in (401, 403):
        raise AuthExpired(detail)
    if status == 429:
        raise Throttled(detail, retry_after=parse_retry_after(response.headers.get("retry-after")))
    if status >= 500 or status == 408:
        raise Transient(detail)
    raise Rejected(detail)


async def post_json(
    client: httpx.AsyncClient, url: str, body: Mapping[str, Any], *, headers: Mapping[str, str]
) -> Any:
    """POST a JSON body and return the decoded JSON answer.

    Raises:
        Transient: the request did not complete, or the answer is not JSON.
        AuthExpired, Throttled, Rejected: see `raise_for_status`.
    """
    try:
        response = await client.post(url, json=dict(body), headers=dict(headers))
    except (httpx.TransportError, OSError) as exc:
        raise Transient(f"{type(exc).__name__}: {exc}") from exc
    raise_for_status(response)
    try:
        return response.json()
    except ValueError as exc:
        raise Transient(f"the channel answered {response.status_code} without JSON") from exc
