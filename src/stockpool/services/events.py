"""Use cases of the event feed: record events with the change, read them in order.

Use cases record events through `publish`, inside the unit of work of the change itself,
so an event exists exactly when its change was committed. Stock-changing use cases do it
in `services.stock.commit_stock_change`: one `stock.changed` per item whose stock moved
and one `ats.changed` per listing whose available-to-sell changed. A full recompute that
changes more listings than `ATS_EVENT_LIMIT` records one `ats.recomputed` per channel
instead (how many of its listings changed): read the listings again.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from stockpool.domain.errors import InvalidInput
from stockpool.domain.events import Event, EventType, NewEvent, compact_json
from stockpool.domain.ids import Sku
from stockpool.domain.orders import Order
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork

if TYPE_CHECKING:  # services.ats records its events through this module
    from stockpool.services.ats import RefreshResult

ATS_EVENT_LIMIT = 10_000


def publish(uow: UnitOfWork, app: Services, events: Iterable[NewEvent]) -> None:
    """Record events in the unit of work of the change they describe."""
    batch = list(events)
    if batch:
        uow.events.append(batch, at=app.clock())


def record_stock_events(
    uow: UnitOfWork, app: Services, touched: Collection[Sku], refreshed: RefreshResult | None
) -> None:
    """Record the stock and ATS changes of a stock-changing unit of work."""
    found = [NewEvent(EventType.STOCK_CHANGED, sku, None, {"sku": sku}) for sku in sorted(touched)]
    if refreshed is not None:
        found += ats_events(uow, app, refreshed)
    publish(uow, app, found)


def order_event(kind: EventType, order: Order, action: str) -> NewEvent:
    """An order event: what happened to the order (`action`) and where it stands now."""
    lines = [
        {
            "line": x.line_no,
            "listing": x.listing_id,
            "quantity": x.quantity,
            "shipped": x.shipped,
            "cancelled": x.cancelled,
            "returned": x.returned,
            "short": sum(x.short_items().values()),
        }
        for x in order.lines
    ]
    payload = {
        "channel": order.channel,
        "external_id": order.external_id,
        "action": action,
        "status": order.status.value,
        "lines": lines,
    }
    return NewEvent(kind, None, order.channel, payload)


def order_events(order: Order, action: str) -> list[NewEvent]:
    """`order.changed` for a recorded order, and `order.oversold` while lines are short."""
    found = [order_event(EventType.ORDER_CHANGED, order, action)]
    if any(x.short_items() for x in order.lines):
        found.append(order_event(EventType.ORDER_OVERSOLD, order, action))
    return found


def ats_events(uow: UnitOfWork, app: Services, refreshed: RefreshResult) -> list[NewEvent]:
    """One `ats.changed` per listing whose stored ATS changed."""
    if not refreshed.changed:
        return []
    listings = app.plans.get(uow, app.clock()).listings
    changed = refreshed.changed
    found = []
    for key in sorted(changed):
        ats, version = changed[key]
        entry = listings.get(key)
        sku = entry.sku if entry is not None else None
        # {"channel", "listing", "sku", "ats", "version"}, written out: hundreds per change
        payload = f'{_ats_prefix(key[0], key[1], sku)}{ats},"version":{version}}}'
        found.append(NewEvent(EventType.ATS_CHANGED, sku, key[0], payload))
    return found


@lru_cache(maxsize=100_000)
def _ats_prefix(channel: str, listing: str, sku: str | None) -> str:
    """The JSON of an `ats.changed` payload up to its numbers, made once per listing (a
    stock change records hundreds of them)."""
    return compact_json({"channel": channel, "listing": listing, "sku": sku})[:-1] + ',"ats":'


def recompute_events(uow: UnitOfWork, app: Services, refreshed: RefreshResult) -> list[NewEvent]:
    """The ATS events of a full recompute: one `ats.changed` per changed listing, or, above
    `ATS_EVENT_LIMIT` changes, one `ats.recomputed` per channel with its count."""
    if len(refreshed.changed) <= ATS_EVENT_LIMIT:
        return ats_events(uow, app, refreshed)
    per_channel: dict[str, int] = {}
    for channel, _ in refreshed.changed:
        per_channel[channel] = per_channel.get(channel, 0) + 1
    return [
        NewEvent(EventType.ATS_RECOMPUTED, None, channel, {"channel": channel, "changed": count})
        for channel, count in sorted(per_channel.items())
    ]


def events_after(
    app: Services,
    after_id: int,
    *,
    item: str | None = None,
    channel: str | None = None,
    types: Collection[str] | None = None,
    limit: int = 100,
) -> list[Event]:
    """Events after `after_id`, oldest first, optionally about one item or channel."""
    if after_id < 0:
        raise InvalidInput("after must be 0 or more")
    if not 1 <= limit <= 1000:
        raise InvalidInput("limit must be between 1 and 1000")
    known = {t.value for t in EventType}
    unknown = sorted(set(types or ()) - known)
    if unknown:
        raise InvalidInput(f"unknown event type {unknown[0]!r}: one of {', '.join(sorted(known))}")
    with app.uow() as uow:
        return uow.events.after(
            after_id,
            limit=limit,
            item=item,
            channel=channel,
            types=None if not types else set(types),
        )


def last_event_id(app: Services) -> int:
    """The id of the newest event (0 if none)."""
    with app.uow() as uow:
        return uow.events.last_id()
