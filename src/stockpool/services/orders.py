"""Use cases of orders: check-and-reserve, ingest, and reading orders and exceptions.

Check-and-reserve never oversells. In ONE transaction it claims the (channel, external id),
locks every stock level of every leaf item the order touches in (SKU, location) order,
computes each line's ATS from the locked state with the compiled plan, sources the lines,
and commits them with one conditional write per level (`available >= q`, row count
checked). A refused order writes nothing; a retry of an accepted one returns it as it is.

Ingest records a channel's order exactly once per (channel, external id). Each
notification is a snapshot with the channel's own update time; older ones are ignored.
Units stock cannot cover become an oversold exception (see `stockpool.domain.orders`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial

from stockpool.domain.errors import AlreadyExists, InvalidInput, NotFound, StockpoolError
from stockpool.domain.ids import ChannelCode, ListingId, LocationCode, Sku
from stockpool.domain.orders import (
    LineRequest,
    NotificationKind,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    OversoldException,
    decide_notification,
    require_external_id,
    require_lines,
    resize,
    status_of,
    with_commitments,
)
from stockpool.domain.reservation import cover, released
from stockpool.services.audit import AuditHook
from stockpool.services.context import Services
from stockpool.services.events import order_events, publish
from stockpool.services.ports import Page, UnitOfWork
from stockpool.services.reservations import ReserveRequest, ReserveResult, reserve_many, zone_of
from stockpool.services.sourcing import OrderDesk, commit_takes, open_desk, release_units
from stockpool.services.stock import Actor, commit_stock_change


def reserve(
    app: Services,
    channel: str,
    external_id: str,
    lines: Sequence[LineRequest],
    *,
    ship_to_zone: str | None = None,
    actor: Actor,
    audit: AuditHook | None = None,
) -> ReserveResult:
    """Accept an order only if every line fits its listing's ATS now; source and commit it.

    Concurrent calls share transactions (see `services.reservations`): each order is still
    decided as if it came alone, and its result is returned once it is committed. `audit`,
    if given, makes the audit entry of the outcome, stored in the same transaction.

    Raises:
        OrderRefused: with a shortfall per line that does not fit; nothing was written.
        AlreadyExists: the channel has an order with this id and other lines.
    """
    del actor  # commitments are not movements; the order itself records the channel
    request = ReserveRequest(channel, external_id, tuple(lines), ship_to_zone, audit)
    return _accepted(app.reservations.submit(request, partial(reserve_many, app)))


async def reserve_soon(
    app: Services,
    channel: str,
    external_id: str,
    lines: Sequence[LineRequest],
    *,
    ship_to_zone: str | None = None,
    actor: Actor,
    audit: AuditHook | None = None,
) -> ReserveResult:
    """`reserve` for a caller on an event loop (the API): it waits for the order's batch
    without holding a thread. Same outcomes and errors."""
    del actor
    request = ReserveRequest(channel, external_id, tuple(lines), ship_to_zone, audit)
    return _accepted(await app.reservations.submit_async(request, partial(reserve_many, app)))


def _accepted(outcome: ReserveResult | StockpoolError) -> ReserveResult:
    """The accepted order of a reservation's outcome; the error refusing it is raised."""
    if isinstance(outcome, StockpoolError):
        raise outcome
    return outcome


@dataclass(frozen=True)
class Notification:
    """A channel's word about one of its orders: a full snapshot at `updated_at`.

    Attributes:
        kind: create, update or cancel.
        channel: the channel.
        external_id: the channel's order id.
        updated_at: the channel's own update time of this snapshot (tz-aware).
        lines: listing and quantity of every line (may be empty for a cancel).
        ship_to_zone: where it ships, if known.
    """

    kind: NotificationKind
    channel: str
    external_id: str
    updated_at: datetime
    lines: tuple[LineRequest, ...] = ()
    ship_to_zone: str | None = None


@dataclass(frozen=True)
class IngestResult:
    """What an ingest did (`created`, `applied`, `filled` or `ignored`), and the order."""

    action: str
    order: Order


def ingest(app: Services, note: Notification, *, actor: Actor) -> IngestResult:
    """Record a channel's order exactly once, whatever order its notifications come in."""
    del actor
    code, ext = ChannelCode(note.channel), require_external_id(note.external_id)
    if note.updated_at.tzinfo is None:
        raise InvalidInput("updated_at needs a time zone (e.g. 2026-03-02T09:00:00Z)")
    requests = require_lines(note.lines, allow_empty=note.kind is NotificationKind.CANCEL)
    with app.uow() as uow:
        desk = open_desk(uow, app, code, ship_to=zone_of(note.ship_to_zone))
        incoming = [desk.line(n, r.listing_id, r.quantity) for n, r in enumerate(requests, 1)]
        found = uow.orders.find(code, ext, lock=True)
        if found is None:
            claimed = uow.orders.claim(
                code,
                ext,
                kind=OrderKind.INGEST,
                ship_to_zone=zone_of(note.ship_to_zone),
                channel_updated_at=note.updated_at,
                at=app.clock(),
            )
            found = uow.orders.find(code, ext, lock=True)
            assert found is not None
            action = "created" if claimed is not None else _decide(note, found[1])
        else:
            action = _decide(note, found[1])
        order_id, order = found
        if action == "ignored":
            return IngestResult(action, order)
        after = _lines_after(note, order, incoming, fill=action == "filled")
        settle(uow, app, desk, order_id, order.lines, after, kind=OrderKind.INGEST)
        stored_at = order.channel_updated_at if action == "filled" else note.updated_at
        uow.orders.set_state(
            order_id, status_of(after), at=app.clock(), channel_updated_at=stored_at
        )
        result = uow.orders.find(code, ext)
        assert result is not None
        publish(uow, app, order_events(result[1], action))
        commit_stock_change(uow, app)
    return IngestResult(action, result[1])


def _decide(note: Notification, order: Order) -> str:
    if order.kind is not OrderKind.INGEST:
        raise AlreadyExists(
            f"order {order.external_id!r} of {order.channel} was reserved here, not ingested"
        )
    decision = decide_notification(
        note.kind,
        note.updated_at,
        stored_at=order.channel_updated_at,
        exists=True,
        has_lines=bool(order.lines),
    )
    if decision == "apply" and order.status is OrderStatus.CANCELLED and order.lines:
        return "ignored"  # a cancelled order stays cancelled
    return {"apply": "applied", "fill": "filled", "ignore": "ignored"}[decision]


def _lines_after(
    note: Notification, order: Order, incoming: list[OrderLine], *, fill: bool
) -> list[OrderLine]:
    """The order's lines once the notification is applied."""
    if fill or (not order.lines and order.status is OrderStatus.CANCELLED):
        return [replace(x, cancelled=x.quantity) for x in incoming]
    if note.kind is NotificationKind.CANCEL:
        if not order.lines:
            return [replace(x, cancelled=x.quantity) for x in incoming]
        return [replace(x, cancelled=x.cancelled + x.open) for x in order.lines]
    wanted = {x.listing_id: x for x in incoming}
    after = []
    for line in order.lines:
        requested = wanted.pop(line.listing_id, None)
        quantity, cancelled = resize(line, 0 if requested is None else requested.quantity)
        after.append(replace(line, quantity=quantity, cancelled=cancelled))
    next_no = max((x.line_no for x in order.lines), default=0)
    for n, extra in enumerate(wanted.values(), next_no + 1):
        after.append(replace(extra, line_no=n))
    return after


def settle(
    uow: UnitOfWork,
    app: Services,
    desk: OrderDesk,
    order_id: int,
    before: Sequence[OrderLine],
    after: Sequence[OrderLine],
    *,
    kind: OrderKind,
) -> list[OrderLine]:
    """Store changed lines, release what they no longer need, commit what they lack (as far
    as stock allows, for ingested orders), and keep their oversold exceptions in step."""
    known = {x.line_no: x for x in before}
    lines = []
    for line in after:
        if line.line_no not in known:
            uow.orders.add_line(order_id, line)
        if known.get(line.line_no) != line:
            uow.orders.update_line(order_id, line)
        excess = released(line)
        release_units(uow, order_id, line.line_no, excess)
        if excess or known.get(line.line_no) != line:
            uow.stock.touch(sku for sku, _ in line.components)
        lines.append(with_commitments(line, _as_map(excess), sign=-1))
    short = [x for x in lines if x.short_items()]
    if short and kind is OrderKind.INGEST:
        leaves = {sku for x in short for sku, _ in x.components}
        takes = cover(
            desk.plan, desk.channel, short, uow.stock.lock_items(leaves), policy=desk.policy
        )
        commit_takes(uow, order_id, short, takes)
        covered = {x.line_no: with_commitments(x, t) for x, t in zip(short, takes, strict=True)}
        lines = [covered.get(x.line_no, x) for x in lines]
    now = app.clock()
    for line in lines:
        short_items = line.short_items()
        uow.orders.sync_exception(order_id, line, short=short_items, at=now)
        if short_items:
            uow.stock.touch(sku for sku, _ in line.components)
    return lines


def _as_map(
    excess: dict[Sku, list[tuple[LocationCode, int]]],
) -> dict[Sku, dict[LocationCode, int]]:
    return {sku: dict(rows) for sku, rows in excess.items()}


def show(app: Services, channel: str, external_id: str) -> Order:
    """One order with its lines and where each is committed."""
    with app.uow() as uow:
        found = uow.orders.find(ChannelCode(channel), external_id)
        if found is None:
            raise NotFound(f"channel {channel} has no order {external_id!r}")
        return found[1]


def list_orders(
    app: Services, *, channel: str | None = None, status: str | None = None, limit: int = 50
) -> list[Order]:
    """The newest orders first."""
    return orders_page(app, channel=channel, status=status, limit=limit).rows


def orders_page(
    app: Services,
    *,
    channel: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> Page[Order]:
    """One page of orders, newest first; `after` is the `next_cursor` of the page before."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    try:
        wanted = None if status is None else OrderStatus(status)
    except ValueError:
        names = ", ".join(s.value for s in OrderStatus)
        raise InvalidInput(f"status must be one of {names}, got {status!r}") from None
    before = None if after is None else int(after)
    with app.uow() as uow:
        code = None if channel is None else ChannelCode(channel)
        found = uow.orders.list_orders(
            channel=code, status=wanted, limit=limit + 1, before_id=before
        )
    rows = found[:limit]
    following = str(rows[-1][0]) if len(found) > limit else None
    return Page([order for _, order in rows], following)


def exceptions(
    app: Services, *, include_resolved: bool = False, channel: str | None = None
) -> list[OversoldException]:
    """Oversold exceptions, oldest first (open ones only unless `include_resolved`)."""
    with app.uow() as uow:
        code = None if channel is None else ChannelCode(channel)
        return uow.orders.exceptions(include_resolved=include_resolved, channel=code)


def line_requests(pairs: Sequence[tuple[str, int]]) -> list[LineRequest]:
    """Line requests from (listing id, quantity) pairs."""
    return [LineRequest(ListingId(listing), quantity) for listing, quantity in pairs]
