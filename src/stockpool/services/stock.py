"""Use cases of the ledger: receive, adjust, count, damage / hold / release, and read."""

from __future__ import annotations

from dataclasses import dataclass

from stockpool.domain.errors import ConcurrentChange, InvalidInput
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import (
    Movement,
    MovementKind,
    StatusChange,
    StockDelta,
    plan_adjust,
    plan_count,
    plan_receive,
    plan_reclassify,
)
from stockpool.domain.quantities import StockState, UnavailableReason, require_units
from stockpool.services.ats import refresh_listings
from stockpool.services.context import Services
from stockpool.services.events import record_stock_events
from stockpool.services.ports import Page, UnitOfWork

COUNT_RETRIES = 20


@dataclass(frozen=True)
class Actor:
    """Who asks, and the document they act on (both recorded on every movement)."""

    name: str
    reference: str = ""


def commit_stock_change(uow: UnitOfWork, app: Services) -> None:
    """Commit a unit of work that changed stock.

    Every stock-changing use case ends here, so that the listings depending on the changed
    items have their available-to-sell recomputed and stored in the same transaction, with
    the events that describe the change (see `services.events`).
    """
    record_stock_change(uow, app)
    uow.commit()


def record_stock_change(uow: UnitOfWork, app: Services) -> None:
    """What `commit_stock_change` does before it commits: recompute and store the ATS of the
    listings depending on the changed items, and record the events."""
    touched = uow.stock.touched()
    if touched:
        refreshed = refresh_listings(uow, app, touched)
        record_stock_events(uow, app, touched, refreshed)


def post_movement(
    uow: UnitOfWork,
    app: Services,
    movement: tuple[Sku, LocationCode, MovementKind],
    delta: StockDelta,
    *,
    actor: Actor,
    reason: str,
    expect_on_hand: int | None = None,
) -> StockState:
    """Apply a delta that changes on_hand and append its movement, in `uow`."""
    sku, location, kind = movement
    state = uow.stock.apply(sku, location, delta, expect_on_hand=expect_on_hand)
    if delta.on_hand:
        uow.stock.record_movement(
            Movement(
                sku, location, kind, delta.on_hand, reason, actor.name, actor.reference, app.clock()
            )
        )
    record_status_changes(uow, app, sku, location, delta, actor=actor, note=reason)
    return state


@dataclass(frozen=True)
class Posting:
    """One level's change within a larger operation, with the movement kind it posts."""

    sku: Sku
    location: LocationCode
    kind: MovementKind
    delta: StockDelta
    reason: str


def post_in_key_order(
    uow: UnitOfWork, app: Services, postings: list[Posting], *, actor: Actor
) -> None:
    """Apply several levels' changes, locking rows in (SKU, location) order.

    Every operation that touches more than one level goes through here, so two of them can
    never wait on each other's rows in opposite orders.
    """
    for posting in sorted(postings, key=lambda p: (p.sku, p.location)):
        post_movement(
            uow,
            app,
            (posting.sku, posting.location, posting.kind),
            posting.delta,
            actor=actor,
            reason=posting.reason,
        )


def record_status_changes(
    uow: UnitOfWork,
    app: Services,
    sku: Sku,
    location: LocationCode,
    delta: StockDelta,
    *,
    actor: Actor,
    note: str,
) -> None:
    """Append a status change for every unavailable reason the delta touches."""
    for reason, quantity in delta.unavailable.items():
        if quantity:
            uow.stock.record_status_change(
                StatusChange(
                    sku, location, reason, quantity, actor.name, note, actor.reference, app.clock()
                )
            )


def receive(
    app: Services, sku: str, location: str, quantity: int, *, actor: Actor, reason: str = ""
) -> StockState:
    """Put received units on the shelf."""
    units = require_units(quantity)
    with app.uow() as uow:
        state = post_movement(
            uow,
            app,
            (Sku(sku), LocationCode(location), MovementKind.RECEIPT),
            plan_receive(units),
            actor=actor,
            reason=reason or "received",
        )
        commit_stock_change(uow, app)
    return state


def adjust(
    app: Services, sku: str, location: str, delta: int, *, reason: str, actor: Actor
) -> StockState:
    """Correct on_hand by `delta` units (negative only up to what is available)."""
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise InvalidInput(f"delta must be a whole number of units, got {delta!r}")
    if not reason.strip():
        raise InvalidInput("an adjustment needs a reason (--reason)")
    planned = plan_adjust(delta)
    with app.uow() as uow:
        state = post_movement(
            uow,
            app,
            (Sku(sku), LocationCode(location), MovementKind.ADJUSTMENT),
            planned,
            actor=actor,
            reason=reason.strip(),
        )
        commit_stock_change(uow, app)
    return state


@dataclass(frozen=True)
class CountResult:
    """What a count changed."""

    counted: int
    variance: int
    state: StockState


def count(
    app: Services, sku: str, location: str, counted: int, *, actor: Actor, reason: str = ""
) -> CountResult:
    """Set on_hand to the counted units; the variance is posted as a count movement.

    The level is locked while the variance is computed, and the write is also conditional
    on the on_hand it was computed from; should another operation get in between anyway,
    the count is recomputed on the new figure.
    """
    units = require_units(counted, what="counted quantity", allow_zero=True)
    for _ in range(COUNT_RETRIES):
        with app.uow() as uow:
            before = uow.stock.get_state(Sku(sku), LocationCode(location), lock=True)
            delta = plan_count(before, units)
            try:
                state = post_movement(
                    uow,
                    app,
                    (Sku(sku), LocationCode(location), MovementKind.COUNT),
                    delta,
                    actor=actor,
                    reason=reason or "counted",
                    expect_on_hand=before.on_hand,
                )
            except ConcurrentChange:
                continue
            commit_stock_change(uow, app)
            return CountResult(units, delta.on_hand, state)
    raise RuntimeError("the count kept meeting concurrent changes; try again")


def reclassify(
    app: Services,
    sku: str,
    location: str,
    quantity: int,
    *,
    source: UnavailableReason | None,
    target: UnavailableReason | None,
    actor: Actor,
    note: str = "",
) -> StockState:
    """Move units between available (None) and an unavailable reason, or between reasons.

    `damage` is available -> damaged, a quality hold is available -> quality_control, and
    `release` is a reason -> available.
    """
    units = require_units(quantity)
    delta = plan_reclassify(units, source=source, target=target)
    with app.uow() as uow:
        state = uow.stock.apply(Sku(sku), LocationCode(location), delta, expect_on_hand=None)
        default_note = f"{source or 'available'} -> {target or 'available'}"
        record_status_changes(
            uow,
            app,
            Sku(sku),
            LocationCode(location),
            delta,
            actor=actor,
            note=note or default_note,
        )
        commit_stock_change(uow, app)
    return state


def stock_of(app: Services, sku: str) -> list[tuple[LocationCode, StockState]]:
    """The state of an item at every location that ever held it."""
    with app.uow() as uow:
        uow.catalog.get_item(Sku(sku))
        return uow.stock.states_of(Sku(sku))


def movements_of(
    app: Services, sku: str, *, location: str | None = None, limit: int = 100
) -> list[Movement]:
    """The newest movements of an item, newest first."""
    return movements_page(app, sku, location=location, limit=limit).rows


def movements_page(
    app: Services,
    sku: str,
    *,
    location: str | None = None,
    kind: str | None = None,
    after: str | None = None,
    limit: int = 100,
) -> Page[Movement]:
    """One page of an item's movements, newest first (`after`: the previous page's cursor)."""
    if not 1 <= limit <= 10_000:
        raise InvalidInput("limit must be between 1 and 10000")
    try:
        wanted = None if kind is None else MovementKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in MovementKind)
        raise InvalidInput(f"kind must be one of {names}, got {kind!r}") from None
    with app.uow() as uow:
        uow.catalog.get_item(Sku(sku))
        code = None if location is None else LocationCode(location)
        if code is not None:
            uow.catalog.get_location(code)
        found = uow.stock.movements_of(
            Sku(sku),
            location=code,
            limit=limit + 1,
            before_id=None if after is None else int(after),
            kind=wanted,
        )
    rows = found[:limit]
    following = str(rows[-1][0]) if len(found) > limit else None
    return Page([movement for _, movement in rows], following)
