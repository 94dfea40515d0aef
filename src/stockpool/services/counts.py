"""Use cases of count reconciliation: import a count, review its variances, approve them.

A count file (a 3PL's stock report or a cycle count: SKU, location, counted quantity and
optionally when it was counted) becomes a count document. Each line's variance is taken
against on_hand as of its counted_at; small variances are posted at once as count
movements, larger ones (see `Threshold`) wait for `approve_count` or `reject_count`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from functools import partial

from stockpool.domain.catalog import require_sku
from stockpool.domain.counts import (
    Count,
    CountedLine,
    CountLine,
    CountLineStatus,
    Threshold,
    as_of,
    require_pending,
    status_for,
)
from stockpool.domain.csv_formats import (
    BadRows,
    RowError,
    check_cell,
    check_unique,
    decode,
    parse_instant,
    read_table,
)
from stockpool.domain.errors import InvalidInput
from stockpool.domain.ids import LocationCode
from stockpool.domain.ledger import LevelKey, MovementKind, plan_count
from stockpool.domain.quantities import StockState, parse_units
from stockpool.services.context import Services
from stockpool.services.ports import UnitOfWork
from stockpool.services.stock import Actor, commit_stock_change, post_movement

DEFAULT_THRESHOLD = Threshold(units=10, value=Decimal("100"))
COUNT_ALIASES = {
    "counted quantity": "counted",
    "quantity": "counted",
    "qty": "counted",
    "location code": "location",
    "counted on": "counted at",
}


@dataclass(frozen=True)
class _Row:
    row: int
    line: CountedLine


def parse_count_file(
    data: bytes, *, name: str, now: datetime
) -> tuple[list[_Row], list[RowError], int]:
    """Rows of a count file, the bad ones as errors, and the number of data rows."""
    table = read_table(
        decode(data, name=name),
        name=name,
        required=("sku", "location", "counted"),
        aliases=COUNT_ALIASES,
    )
    errors = list(table.errors)
    seen: dict[tuple[str, ...], int] = {}
    rows = []
    units = partial(parse_units, what="counted", allow_zero=True)
    for number, cells in table.rows:
        sku = check_cell(errors, number, "sku", require_sku, cells["sku"])
        counted = check_cell(errors, number, "counted", units, cells["counted"])
        at = None
        if cells.get("counted at"):
            at = check_cell(errors, number, "counted_at", parse_instant, cells["counted at"])
            if at is not None and at > now:
                errors.append(RowError(number, "counted_at", f"{at.isoformat()} is in the future"))
                at = None
                continue
        if not cells["location"]:
            errors.append(RowError(number, "location", "is empty"))
            continue
        if sku is None or counted is None:
            continue
        if check_unique(errors, seen, number, (sku, cells["location"])):
            rows.append(
                _Row(number, CountedLine(sku, LocationCode(cells["location"]), counted, at))
            )
    return rows, errors, len(table.rows) + len(table.errors)


def _unknown(uow: UnitOfWork, rows: list[_Row], errors: list[RowError]) -> list[_Row]:
    skus = uow.stock.existing_items({r.line.sku for r in rows})
    codes = {loc.code for loc in uow.catalog.list_locations(include_archived=True)}
    good = []
    for r in rows:
        if r.line.sku not in skus:
            errors.append(RowError(r.row, "sku", f"unknown SKU {r.line.sku!r}"))
        elif r.line.location not in codes:
            errors.append(RowError(r.row, "location", f"unknown location {r.line.location!r}"))
        else:
            good.append(r)
    return good


def _reconcile(
    uow: UnitOfWork, rows: list[_Row], threshold: Threshold, errors: list[RowError]
) -> list[tuple[CountLine, StockState]]:
    keys = [(r.line.sku, r.line.location) for r in rows]
    since = [(k, r.line.counted_at) for k, r in zip(keys, rows, strict=True) if r.line.counted_at]
    moved = uow.counts.moved_since(since)
    flags = uow.counts.open_documents(keys)
    result = []
    for r in sorted(rows, key=lambda r: (r.line.sku, r.line.location)):
        key = (r.line.sku, r.line.location)
        state = uow.stock.get_state(*key, lock=True)
        expected = as_of(state.on_hand, moved.get(key, 0))
        variance = r.line.counted - expected
        if state.on_hand + variance < state.committed:
            errors.append(
                RowError(
                    r.row,
                    "counted",
                    f"posting the variance {variance:+d} would leave on_hand below the "
                    f"{state.committed} units committed at {r.line.location}",
                )
            )
            continue
        cost = uow.catalog.get_item(r.line.sku).unit_cost
        value = None if cost is None else cost * variance
        line = CountLine(
            *key,
            counted=r.line.counted,
            counted_at=r.line.counted_at,
            expected=expected,
            unit_cost=cost,
            status=status_for(variance, value, threshold),
            flags=tuple(flags.get(key, ())),
        )
        result.append((line, state))
    return result


def _post(
    uow: UnitOfWork, app: Services, count_id: int, line: CountLine, *, actor: Actor, reason: str
) -> None:
    state = uow.stock.get_state(line.sku, line.location, lock=True)
    post_movement(
        uow,
        app,
        (line.sku, line.location, MovementKind.COUNT),
        plan_count(state, state.on_hand + line.variance),
        actor=replace(actor, reference=actor.reference or f"count:{count_id}"),
        reason=f"count {count_id}: {reason}",
    )


def import_count(
    app: Services,
    data: bytes,
    *,
    name: str,
    actor: Actor,
    reason: str = "count",
    threshold: Threshold = DEFAULT_THRESHOLD,
    skip_bad_rows: bool = False,
) -> Count:
    """Reconcile a count file against the ledger; post what is within the threshold.

    Raises:
        BadFile: the file cannot be read (nothing written).
        BadRows: some rows are bad and `skip_bad_rows` is False (nothing written).
    """
    if not reason.strip():
        raise InvalidInput("a count needs a reason")
    rows, errors, total = parse_count_file(data, name=name, now=app.clock())
    with app.uow() as uow:
        rows = _unknown(uow, rows, errors)
        lines = _reconcile(uow, rows, threshold, errors) if not errors or skip_bad_rows else []
        if errors and not skip_bad_rows:
            raise BadRows(sorted(errors, key=lambda e: e.row), rows=total)
        if not lines:
            raise InvalidInput(f"{name} has no good rows: nothing to reconcile")
        count_id = uow.counts.create(
            reference=actor.reference or name,
            reason=reason.strip(),
            actor=actor.name,
            threshold=threshold,
            at=app.clock(),
        )
        uow.counts.add_lines(count_id, [line for line, _ in lines])
        for line, _ in lines:
            if line.status is CountLineStatus.POSTED:
                _post(uow, app, count_id, line, actor=actor, reason=reason.strip())
        result = uow.counts.get(count_id)
        commit_stock_change(uow, app)
    return result


def _decide(
    app: Services,
    count_id: int,
    keys: Collection[LevelKey] | None,
    *,
    approve: bool,
    actor: Actor,
) -> Count:
    with app.uow() as uow:
        count = uow.counts.get(count_id)
        if keys is None:
            chosen = [line for line in count.lines if line.status is CountLineStatus.PENDING]
            if not chosen:
                raise InvalidInput(f"count {count_id} has no line pending approval")
        else:
            chosen = [count.line(sku, location) for sku, location in sorted(set(keys))]
        status = CountLineStatus.POSTED if approve else CountLineStatus.REJECTED
        for line in chosen:
            require_pending(count, line)
            if approve:
                _post(uow, app, count_id, line, actor=actor, reason=count.reason)
            uow.counts.decide(
                count_id, (line.sku, line.location), status, actor=actor.name, at=app.clock()
            )
        result = uow.counts.get(count_id)
        commit_stock_change(uow, app)
    return result


def approve_count(
    app: Services, count_id: int, keys: Collection[LevelKey] | None = None, *, actor: Actor
) -> Count:
    """Post the pending variances of a count (all of them, or the given levels)."""
    return _decide(app, count_id, keys, approve=True, actor=actor)


def reject_count(
    app: Services, count_id: int, keys: Collection[LevelKey] | None = None, *, actor: Actor
) -> Count:
    """Discard pending variances: on_hand stays as the ledger has it."""
    return _decide(app, count_id, keys, approve=False, actor=actor)


def get_count(app: Services, count_id: int) -> Count:
    """One count with its lines."""
    with app.uow() as uow:
        return uow.counts.get(count_id)


def list_counts(app: Services, *, limit: int = 50) -> list[Count]:
    """The newest counts."""
    with app.uow() as uow:
        return uow.counts.recent(limit=limit)
