"""Use cases of an order's lifecycle: ship, cancel, return, re-source, resolve exceptions.

Every transition runs in one unit of work with the order row locked, and is idempotent:
"everything" (ship all, cancel all, return all) has nothing left to do the second time,
and an explicit per-line transition is recorded under its reference (given, or derived
from its content), so a retry with the same reference changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from stockpool.domain.allocation import AllocationPlan
from stockpool.domain.errors import InvalidInput, InvalidTransition, NotFound
from stockpool.domain.ids import ChannelCode, LocationCode, Sku
from stockpool.domain.ledger import MovementKind, StockDelta
from stockpool.domain.orders import (
    Order,
    OrderKind,
    OrderLine,
    draw,
    require_cancellable,
    require_returnable,
    require_shippable,
    status_of,
)
from stockpool.domain.quantities import UnavailableReason, require_units
from stockpool.domain.reservation import eligible_locations, protection_check
from stockpool.services.context import Services
from stockpool.services.events import order_events, publish
from stockpool.services.orders import settle
from stockpool.services.ports import UnitOfWork
from stockpool.services.sourcing import open_desk
from stockpool.services.stock import Actor, Posting, commit_stock_change, post_in_key_order


def _locked(uow: UnitOfWork, channel: str, external_id: str) -> tuple[int, Order]:
    found = uow.orders.find(ChannelCode(channel), external_id, lock=True)
    if found is None:
        raise NotFound(f"channel {channel} has no order {external_id!r}")
    return found


def _units(lines: Mapping[int, int] | None) -> dict[int, int] | None:
    if lines is None:
        return None
    return {n: require_units(q, what=f"quantity of line {n}") for n, q in lines.items()}


def _first_time(
    uow: UnitOfWork,
    app: Services,
    order_id: int,
    operation: str,
    lines: Mapping[int, int] | None,
    reference: str | None,
) -> bool:
    """Whether this transition is new (records it); 'all' transitions are always new."""
    if reference is None and lines is None:
        return True
    key = reference or ",".join(f"{n}x{q}" for n, q in sorted((lines or {}).items()))
    return uow.orders.record_event(order_id, f"{operation}:{key}", at=app.clock())


def _reference(order: Order) -> str:
    return f"order:{order.channel}:{order.external_id}"


def ship(
    app: Services,
    channel: str,
    external_id: str,
    lines: Mapping[int, int] | None = None,
    *,
    reference: str | None = None,
    actor: Actor,
) -> Order:
    """Ship listing units per line (all covered open units if `lines` is None).

    Each item unit leaves as a `shipment` movement and its commitment is released, in one
    delta per level.
    """
    wanted = _units(lines)
    with app.uow() as uow:
        order_id, order = _locked(uow, channel, external_id)
        if not _first_time(uow, app, order_id, "ship", wanted, reference):
            return order
        plan = wanted or {x.line_no: x.covered for x in order.lines if x.covered}
        if not any(plan.values()):
            return order
        postings: list[Posting] = []
        after = {x.line_no: x for x in order.lines}
        for line_no, units in sorted(plan.items()):
            line = order.line(line_no)
            require_shippable(line, units)
            for sku, per in line.components:
                rows = [(c.location, c.committed) for c in line.commitments if c.sku == sku]
                for code, count in draw(rows, units * per):
                    uow.orders.change_commitment(
                        order_id, line_no, sku, code, committed=-count, shipped=count
                    )
                    delta = StockDelta(on_hand=-count, committed=-count)
                    reason = f"shipped, line {line_no}"
                    postings.append(Posting(sku, code, MovementKind.SHIPMENT, delta, reason))
            after[line_no] = replace(line, shipped=line.shipped + units)
            uow.orders.update_line(order_id, after[line_no])
        post_in_key_order(uow, app, postings, actor=replace(actor, reference=_reference(order)))
        return _finish(uow, app, order_id, order, list(after.values()), action="shipped")


def _finish(
    uow: UnitOfWork,
    app: Services,
    order_id: int,
    order: Order,
    lines: list[OrderLine],
    *,
    action: str,
) -> Order:
    uow.orders.set_state(order_id, status_of(lines), at=app.clock())
    found = uow.orders.find(order.channel, order.external_id)
    assert found is not None
    publish(uow, app, order_events(found[1], action))
    commit_stock_change(uow, app)
    return found[1]


def cancel(
    app: Services,
    channel: str,
    external_id: str,
    lines: Mapping[int, int] | None = None,
    *,
    reference: str | None = None,
    actor: Actor,
) -> Order:
    """Cancel open listing units per line (the whole order if `lines` is None); their
    commitments go back to available and any oversold exception shrinks with them."""
    del actor
    wanted = _units(lines)
    with app.uow() as uow:
        order_id, order = _locked(uow, channel, external_id)
        if not _first_time(uow, app, order_id, "cancel", wanted, reference):
            return order
        plan = wanted or {x.line_no: x.open for x in order.lines if x.open}
        if not any(plan.values()):
            return order
        after = []
        for line in order.lines:
            units = plan.get(line.line_no, 0)
            require_cancellable(line, units)
            after.append(replace(line, cancelled=line.cancelled + units))
        for line_no in plan:
            order.line(line_no)
        desk = open_desk(uow, app, order.channel)
        settled = settle(uow, app, desk, order_id, order.lines, after, kind=order.kind)
        return _finish(uow, app, order_id, order, settled, action="cancelled")


def return_units(
    app: Services,
    channel: str,
    external_id: str,
    lines: Mapping[int, int] | None = None,
    *,
    damaged: bool = False,
    reference: str | None = None,
    actor: Actor,
) -> Order:
    """Take shipped listing units back: a `return` movement at the location they left
    from, to available, or with `damaged` straight into the damaged state."""
    wanted = _units(lines)
    with app.uow() as uow:
        order_id, order = _locked(uow, channel, external_id)
        operation = "return-damaged" if damaged else "return"
        if not _first_time(uow, app, order_id, operation, wanted, reference):
            return order
        plan = wanted or {x.line_no: x.shipped - x.returned for x in order.lines}
        if not any(plan.values()):
            return order
        postings: list[Posting] = []
        after = {x.line_no: x for x in order.lines}
        for line_no, units in sorted(plan.items()):
            if not units:
                continue
            line = order.line(line_no)
            require_returnable(line, units)
            for sku, per in line.components:
                rows = [
                    (c.location, c.shipped - c.returned) for c in line.commitments if c.sku == sku
                ]
                for code, count in draw(rows, units * per):
                    uow.orders.change_commitment(order_id, line_no, sku, code, returned=count)
                    hurt = {UnavailableReason.DAMAGED: count} if damaged else {}
                    delta = StockDelta(on_hand=count, unavailable=hurt)
                    reason = f"returned{' damaged' if damaged else ''}, line {line_no}"
                    postings.append(Posting(sku, code, MovementKind.RETURN, delta, reason))
            after[line_no] = replace(line, returned=line.returned + units)
            uow.orders.update_line(order_id, after[line_no])
        post_in_key_order(uow, app, postings, actor=replace(actor, reference=_reference(order)))
        action = "returned damaged" if damaged else "returned"
        return _finish(uow, app, order_id, order, list(after.values()), action=action)


def resource(app: Services, channel: str, external_id: str, line_no: int, location: str) -> Order:
    """Move every open commitment of a line to another eligible location, atomically.

    Raises:
        InvalidInput: the location may not serve the channel.
        InsufficientStock: the location has not enough available (nothing changed).
        InvalidTransition: the move would break another channel's protection.
    """
    target = LocationCode(location)
    with app.uow() as uow:
        order_id, order = _locked(uow, channel, external_id)
        line = order.line(line_no)
        if line.open == 0:
            raise InvalidTransition(f"line {line_no} has nothing open to re-source")
        desk = open_desk(uow, app, order.channel)
        moves = _moves(line, target, desk.plan, desk.index)
        available = uow.stock.lock_items(moves)
        for sku, rows in moves.items():
            for code, count in rows:
                available[sku][code] = available[sku].get(code, 0) + count
        check = protection_check(desk.plan, desk.index, available)
        for sku, rows in sorted(moves.items()):
            units = sum(count for _, count in rows)
            if order.kind is OrderKind.RESERVE and not check(sku, {target: units}):
                raise InvalidTransition(
                    f"moving {units} {sku} to {target} would break another channel's protection"
                )
            for code, count in rows:
                uow.orders.change_commitment(order_id, line_no, sku, code, committed=-count)
                uow.stock.apply(sku, code, StockDelta(committed=-count), expect_on_hand=None)
            uow.orders.change_commitment(order_id, line_no, sku, target, committed=units)
            uow.stock.apply(sku, target, StockDelta(committed=units), expect_on_hand=None)
        return _finish(uow, app, order_id, order, list(order.lines), action="re-sourced")


def _moves(
    line: OrderLine, target: LocationCode, plan: AllocationPlan, index: int
) -> dict[Sku, list[tuple[LocationCode, int]]]:
    moves: dict[Sku, list[tuple[LocationCode, int]]] = {}
    for sku, _ in line.components:
        if target not in eligible_locations(plan, index, sku):
            raise InvalidInput(f"{target} may not serve {sku} on this channel")
        rows = [
            (c.location, c.committed)
            for c in line.commitments
            if c.sku == sku and c.location != target and c.committed
        ]
        if rows:
            moves[sku] = rows
    if not moves:
        raise InvalidTransition(f"line {line.line_no} is committed at {target} already")
    return moves


def resolve(app: Services, *, channel: str | None = None) -> list[Order]:
    """Commit what stock now allows to every order with an open oversold exception.

    Returns:
        The orders looked at, as they are afterwards (their exceptions resolved or smaller).
    """
    with app.uow() as uow:
        pending = uow.orders.open_exception_orders()
    done = []
    for code, external_id in pending:
        if channel is not None and code != channel:
            continue
        with app.uow() as uow:
            order_id, order = _locked(uow, code, external_id)
            desk = open_desk(uow, app, order.channel, ship_to=order.ship_to_zone)
            lines = settle(uow, app, desk, order_id, order.lines, order.lines, kind=order.kind)
            done.append(_finish(uow, app, order_id, order, lines, action="resolved"))
    return done
