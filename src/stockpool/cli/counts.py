"""Commands for count reconciliation: import a count, review variances, approve or reject."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, fail, out, state
from stockpool.cli.interchange import FileArg, Skip, read_file
from stockpool.domain.counts import Count, Threshold
from stockpool.domain.ids import LocationCode, Sku
from stockpool.domain.ledger import LevelKey
from stockpool.services import counts
from stockpool.services.counts import DEFAULT_THRESHOLD

count_app = typer.Typer(
    help="Count reconciliation (3PL reports, cycle counts).", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
LineKeys = Annotated[
    list[str] | None, typer.Option("--line", help="SKU@LOCATION (repeat); all pending if none.")
]


def count_json(c: Count) -> dict[str, object]:
    """A count as JSON."""
    return {
        "id": c.id,
        "reference": c.reference,
        "reason": c.reason,
        "threshold": {
            "units": c.threshold.units,
            "value": None if c.threshold.value is None else str(c.threshold.value),
        },
        "lines": [
            {
                "sku": line.sku,
                "location": line.location,
                "counted": line.counted,
                "counted_at": line.counted_at.isoformat() if line.counted_at else None,
                "expected": line.expected,
                "variance": line.variance,
                "unit_cost": None if line.unit_cost is None else str(line.unit_cost),
                "value": None if line.value is None else str(line.value),
                "status": line.status.value,
                "flags": list(line.flags),
            }
            for line in c.lines
        ],
    }


def _print_count(c: Count, as_json: bool) -> None:
    if as_json:
        emit_json(count_json(c))
        return
    out.print(f"count {c.id} ({c.reference}): {c.reason}")
    table = Table("SKU", "location", "counted", "expected", "variance", "value", "status", "open")
    for line in c.lines:
        table.add_row(
            line.sku,
            line.location,
            str(line.counted),
            str(line.expected),
            f"{line.variance:+d}",
            "" if line.value is None else f"{line.value:+.2f}",
            line.status.value,
            ", ".join(line.flags),
        )
    out.print(table)


@count_app.command("import")
def count_import(
    ctx: typer.Context,
    file: FileArg,
    max_units: Annotated[
        int | None, typer.Option("--max-units", help="Approve variances above this many units.")
    ] = DEFAULT_THRESHOLD.units,
    max_value: Annotated[
        str | None, typer.Option("--max-value", help="Approve variances above this value.")
    ] = str(DEFAULT_THRESHOLD.value),
    reason: Annotated[str, typer.Option("--reason", help="Why (on every movement).")] = "count",
    skip_bad_rows: Skip = False,
    as_json: Json = False,
) -> None:
    """Reconcile a count file (sku, location, counted[, counted_at]) against the ledger."""
    data = read_file(file)
    try:
        value = None if max_value in (None, "") else Decimal(max_value)
    except ArithmeticError:
        fail(f"--max-value must be a number, got {max_value!r}")
    if (max_units is not None and max_units < 0) or (value is not None and value < 0):
        fail("thresholds must be zero or more")
    with errors_as_exit():
        c = counts.import_count(
            state(ctx).services(),
            data,
            name=file.name,
            actor=state(ctx).actor_for(f"count:{file.name}"),
            reason=reason,
            threshold=Threshold(max_units, value),
            skip_bad_rows=skip_bad_rows,
        )
    _print_count(c, as_json)


def _keys(texts: list[str] | None) -> list[LevelKey] | None:
    if not texts:
        return None
    keys = []
    for text in texts:
        sku, _, location = text.rpartition("@")
        if not sku or not location:
            fail(f"--line must be SKU@LOCATION, got {text!r}")
        keys.append((Sku(sku), LocationCode(location)))
    return keys


@count_app.command("approve")
def count_approve(
    ctx: typer.Context, count_id: int, line: LineKeys = None, as_json: Json = False
) -> None:
    """Post pending variances of a count as count movements."""
    keys = _keys(line)
    with errors_as_exit():
        c = counts.approve_count(
            state(ctx).services(), count_id, keys, actor=state(ctx).actor_for()
        )
    _print_count(c, as_json)


@count_app.command("reject")
def count_reject(
    ctx: typer.Context, count_id: int, line: LineKeys = None, as_json: Json = False
) -> None:
    """Discard pending variances of a count."""
    keys = _keys(line)
    with errors_as_exit():
        c = counts.reject_count(state(ctx).services(), count_id, keys, actor=state(ctx).actor_for())
    _print_count(c, as_json)


@count_app.command("show")
def count_show(ctx: typer.Context, count_id: int, as_json: Json = False) -> None:
    """A count's lines: variance in units and value, status, open documents."""
    with errors_as_exit():
        c = counts.get_count(state(ctx).services(), count_id)
    _print_count(c, as_json)


@count_app.command("list")
def count_list(ctx: typer.Context, as_json: Json = False) -> None:
    """The newest counts."""
    with errors_as_exit():
        rows = counts.list_counts(state(ctx).services())
    if as_json:
        emit_json([count_json(c) for c in rows])
        return
    table = Table("id", "reference", "lines", "pending", "created")
    for c in rows:
        pending = sum(1 for line in c.lines if line.status.value == "pending_approval")
        table.add_row(
            str(c.id),
            c.reference,
            str(len(c.lines)),
            str(pending),
            f"{c.created_at:%Y-%m-%d %H:%M}",
        )
    out.print(table)
