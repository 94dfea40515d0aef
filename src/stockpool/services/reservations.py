"""Check-and-reserve, many orders per transaction.

`reserve_many` decides a batch of orders in ONE transaction, each exactly as if it came
alone, in turn:

1. every order's lines are resolved to leaf items; the orders are claimed (their
   (channel, external id) headers inserted by one statement, in key order so that
   concurrent batches never wait on each other crosswise); an id the channel used already
   is answered from the stored order (a retry gets the original result);
2. every stock level of every leaf item of the claimed orders is locked at once, in
   (SKU, location) order, and read;
3. the orders are checked and sourced one after the other against what the orders before
   them left (`stockpool.domain.reservation.check_and_source`), so the batch can never
   accept more than one order at a time could;
4. refused orders lose their claim (nothing of them remains); accepted ones get their
   lines and commitments, and each level its ONE conditional write (`available >= q`,
   row count checked) for the whole batch;
5. the listings depending on the changed items are recomputed, the events and the
   outbox written, each order's audit entry too when its caller gave an `AuditHook`, and
   the batch commits.

Orders of one batch have distinct (channel, external id): a repeated id waits for the next
transaction, where it is a retry. `GroupCommit` forms the batches from concurrent callers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from stockpool.domain.errors import AlreadyExists, StockpoolError
from stockpool.domain.events import EventType, NewEvent
from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.domain.orders import (
    LineRequest,
    Order,
    OrderKind,
    OrderLine,
    OrderRefused,
    OrderStatus,
    require_external_id,
    require_lines,
    with_commitments,
)
from stockpool.domain.reservation import Takes, check_and_source
from stockpool.services.ats import prefetch_stored
from stockpool.services.audit import AuditHook, write_records
from stockpool.services.context import Services
from stockpool.services.events import publish
from stockpool.services.ports import UnitOfWork
from stockpool.services.sourcing import OrderDesk, commit_many, open_desk
from stockpool.services.stock import record_stock_change


@dataclass(frozen=True)
class ReserveRequest:
    """A check-and-reserve order as asked: channel, its order id, lines, where it ships."""

    channel: str
    external_id: str
    lines: tuple[LineRequest, ...]
    ship_to_zone: str | None = None
    audit: AuditHook | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """(channel, external id): an order is unique on it."""
        return (self.channel, self.external_id)


@dataclass(frozen=True)
class ReserveResult:
    """An accepted order; `replayed` when it had been accepted before (a retry)."""

    order: Order
    replayed: bool


Outcome = ReserveResult | StockpoolError


def zone_of(text: str | None) -> str | None:
    """A ship-to zone as stored: stripped, and None when blank."""
    if text is None or not text.strip():
        return None
    return text.strip()


def reserve_many(app: Services, requests: Sequence[ReserveRequest]) -> list[Outcome]:
    """Check-and-reserve orders, each decided as if alone and in turn (see the module).

    Returns:
        Per request, in order: the accepted (or replayed) order, or the error refusing it
        (`OrderRefused` with the shortfall per line, `AlreadyExists`, `NotFound`,
        `InvalidInput`). Other errors (the database failing) raise for the whole batch,
        which then changed nothing.
    """
    outcomes: list[Outcome | None] = [None] * len(requests)
    pending = list(range(len(requests)))
    while pending:
        wave: list[int] = []
        later: list[int] = []
        seen: set[tuple[str, str]] = set()
        for index in pending:
            key = requests[index].key
            (later if key in seen else wave).append(index)
            seen.add(key)
        decided = _reserve_wave(app, [requests[i] for i in wave])
        for index, outcome in zip(wave, decided, strict=True):
            outcomes[index] = outcome
        pending = later
    return [x for x in outcomes if x is not None]


@dataclass
class _Order:
    """One order of a batch on its way through it."""

    request: ReserveRequest
    channel: ChannelCode
    external_id: str
    zone: str | None
    desk: OrderDesk
    lines: list[OrderLine]
    order_id: int | None = None
    takes: tuple[Takes, ...] = ()
    outcome: Outcome | None = field(default=None)


def _reserve_wave(app: Services, requests: Sequence[ReserveRequest]) -> list[Outcome]:
    """One transaction for orders with distinct (channel, external id)."""
    with app.uow() as uow:
        desks: dict[tuple[ChannelCode, str | None], OrderDesk] = {}
        prepared = [_prepare(uow, app, desks, r) for r in requests]
        batch = [x for x in prepared if isinstance(x, _Order)]
        _claim(uow, app, batch)
        claimed = [x for x in batch if x.outcome is None]
        leaves = {sku for x in claimed for line in x.lines for sku, _ in line.components}
        stock = uow.stock.lock_items(leaves)
        oversold = uow.orders.oversold_items(leaves)
        # From here the statements go out back to back. The stored ATS values that the
        # recompute compares with are asked for first and arrive while the orders are
        # decided; the server then runs the writes while their ATS and events are made.
        with uow.pipeline():
            prefetch_stored(uow, app, leaves)
            for entry in claimed:
                _decide(app, entry, stock, oversold)
            uow.ats.receive_prefetched()
            found = [x.outcome if isinstance(x, _Order) else x for x in prepared]
            outcomes = [x for x in found if x is not None]
            assert len(outcomes) == len(requests), "every order of the batch is decided"
            hooks = [(r.audit, x) for r, x in zip(requests, outcomes, strict=True) if r.audit]
            _write(uow, app, claimed)
            write_records(uow, [hook(outcome) for hook, outcome in hooks])
            record_stock_change(uow, app)
        uow.commit()
    return outcomes


def _prepare(
    uow: UnitOfWork,
    app: Services,
    desks: dict[tuple[ChannelCode, str | None], OrderDesk],
    request: ReserveRequest,
) -> _Order | StockpoolError:
    """Validate a request and resolve its lines, or the error that refuses it."""
    try:
        code, ext = ChannelCode(request.channel), require_external_id(request.external_id)
        lines = require_lines(request.lines)
        zone = zone_of(request.ship_to_zone)
        desk = desks.get((code, zone))
        if desk is None:
            desk = desks[(code, zone)] = open_desk(uow, app, code, ship_to=zone)
        planned = [desk.line(n, r.listing_id, r.quantity) for n, r in enumerate(lines, 1)]
    except StockpoolError as error:
        return error
    return _Order(request, code, ext, zone, desk, planned)


def _claim(uow: UnitOfWork, app: Services, batch: list[_Order]) -> None:
    """Insert the order headers in key order; ids used already are answered as retries."""
    ordered = sorted(batch, key=lambda x: (x.channel, x.external_id))
    claimed = uow.orders.claim_many(
        [(x.channel, x.external_id, x.zone) for x in ordered],
        kind=OrderKind.RESERVE,
        at=app.clock(),
    )
    for entry in ordered:
        entry.order_id = claimed.get((entry.channel, entry.external_id))
        if entry.order_id is None:
            entry.outcome = _replay(uow, entry)


def _replay(uow: UnitOfWork, entry: _Order) -> Outcome:
    found = uow.orders.find(entry.channel, entry.external_id)
    assert found is not None
    order = found[1]
    asked = [(x.listing_id, x.quantity) for x in entry.lines]
    recorded = [(x.listing_id, x.quantity) for x in order.lines]
    if order.kind is not OrderKind.RESERVE or asked != recorded:
        return AlreadyExists(
            f"channel {entry.channel} has an order {entry.external_id!r} already, with other lines"
        )
    return ReserveResult(order, replayed=True)


def _decide(
    app: Services,
    entry: _Order,
    stock: dict[Sku, dict[LocationCode, int]],
    oversold: set[Sku],
) -> None:
    """Check and source one order against what is left; take its units if it fits."""
    skus = {sku for line in entry.lines for sku, _ in line.components}
    decided = check_and_source(
        entry.desk.plan,
        entry.channel,
        entry.lines,
        {sku: stock[sku] for sku in skus},
        oversold=oversold,
        policy=entry.desk.policy,
    )
    if decided.shortfall:
        entry.outcome = OrderRefused(entry.channel, entry.external_id, decided.shortfall)
        return
    for takes in decided.takes:
        for sku, places in takes.items():
            held = stock[sku]
            for code, units in places.items():
                held[code] = held.get(code, 0) - units
    entry.takes = decided.takes
    now = app.clock()
    accepted = tuple(
        with_commitments(x, t) for x, t in zip(entry.lines, decided.takes, strict=True)
    )
    order = Order(
        entry.channel,
        entry.external_id,
        OrderKind.RESERVE,
        OrderStatus.OPEN,
        accepted,
        now,
        now,
        ship_to_zone=entry.zone,
    )
    entry.outcome = ReserveResult(order, replayed=False)


def _write(uow: UnitOfWork, app: Services, claimed: list[_Order]) -> None:
    """Drop the claims of refused orders; store accepted ones, their commitments and
    events, with one conditional write per stock level for the whole batch."""
    accepted = [x for x in claimed if isinstance(x.outcome, ReserveResult)]
    refused = [x.order_id for x in claimed if not isinstance(x.outcome, ReserveResult)]
    uow.orders.drop_claims([x for x in refused if x is not None])
    uow.orders.add_lines([(x.order_id or 0, line) for x in accepted for line in x.lines])
    commit_many(uow, [(x.order_id or 0, x.lines, x.takes) for x in accepted])
    publish(uow, app, [_accepted_event(x) for x in accepted])


def _accepted_event(entry: _Order) -> NewEvent:
    lines = [{"listing": x.listing_id, "quantity": x.quantity} for x in entry.lines]
    payload = {"channel": entry.channel, "external_id": entry.external_id, "lines": lines}
    return NewEvent(EventType.ORDER_ACCEPTED, None, entry.channel, payload)
