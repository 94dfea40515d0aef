"""Commands for stock: receive, adjust, count, damage / hold / release, transfer, show."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, fail, out, parse_with, state
from stockpool.domain.csv_formats import parse_instant
from stockpool.domain.errors import InvalidInput
from stockpool.domain.quantities import StockState, UnavailableReason, parse_units
from stockpool.domain.transfers import Transfer, TransferStatus
from stockpool.services import stock, transfers

stock_app = typer.Typer(help="Stock levels and the movements behind them.", no_args_is_help=True)
transfer_app = typer.Typer(help="Transfers between locations.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Reference = Annotated[str, typer.Option("--reference", help="Document behind it (PO, file...).")]

units = partial(parse_units, what="quantity")
# "-1" must reach our parser (and its clear message) instead of being taken for an option.
NUMERIC_ARGS = {"ignore_unknown_options": True}


def state_json(location: str, s: StockState) -> dict[str, object]:
    """One location's state, as `stock show --json` prints it."""
    return {
        "location": location,
        "on_hand": s.on_hand,
        "committed": s.committed,
        "unavailable": {r.value: s.unavailable[r] for r in UnavailableReason},
        "available": s.available,
        "incoming": s.incoming,
    }


def _done(sku: str, location: str, s: StockState) -> None:
    out.print(
        f"{sku} at {location}: on_hand {s.on_hand}, available {s.available}, "
        f"committed {s.committed}, unavailable {s.unavailable_total}"
    )


@stock_app.command("receive", context_settings=NUMERIC_ARGS)
def receive(
    ctx: typer.Context, sku: str, location: str, qty: str, reference: Reference = ""
) -> None:
    """Put received units on the shelf."""
    quantity = parse_with(units, qty)
    with errors_as_exit():
        s = stock.receive(
            state(ctx).services(), sku, location, quantity, actor=state(ctx).actor_for(reference)
        )
    _done(sku, location, s)


@stock_app.command("adjust", context_settings=NUMERIC_ARGS)
def adjust(
    ctx: typer.Context,
    sku: str,
    location: str,
    delta: Annotated[str, typer.Argument(help="Signed change, e.g. -2 or 5.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    reference: Reference = "",
) -> None:
    """Correct on_hand by DELTA units (a loss can take only available units)."""
    change = parse_with(partial(parse_units, what="delta", signed=True), delta)
    with errors_as_exit():
        s = stock.adjust(
            state(ctx).services(),
            sku,
            location,
            change,
            reason=reason,
            actor=state(ctx).actor_for(reference),
        )
    _done(sku, location, s)


@stock_app.command("count", context_settings=NUMERIC_ARGS)
def count(
    ctx: typer.Context,
    sku: str,
    location: str,
    counted: str,
    reason: Annotated[str, typer.Option(help="Note for the count movement.")] = "",
    reference: Reference = "",
) -> None:
    """Set on_hand to the COUNTED units; the variance is posted as a count movement."""
    quantity = parse_with(partial(parse_units, what="counted", allow_zero=True), counted)
    with errors_as_exit():
        result = stock.count(
            state(ctx).services(),
            sku,
            location,
            quantity,
            actor=state(ctx).actor_for(reference),
            reason=reason,
        )
    out.print(f"variance {result.variance:+d}")
    _done(sku, location, result.state)


def _reason(text: str) -> UnavailableReason:
    try:
        return UnavailableReason(text)
    except ValueError:
        names = ", ".join(r.value for r in UnavailableReason)
        raise InvalidInput(f"reason must be one of {names}, got {text!r}") from None


def _move(
    ctx: typer.Context,
    args: tuple[str, str, str],
    source: UnavailableReason | None,
    target: UnavailableReason | None,
    note: str,
) -> None:
    sku, location, qty = args
    quantity = parse_with(units, qty)
    with errors_as_exit():
        s = stock.reclassify(
            state(ctx).services(),
            sku,
            location,
            quantity,
            source=source,
            target=target,
            actor=state(ctx).actor_for(),
            note=note,
        )
    _done(sku, location, s)


Note = Annotated[str, typer.Option("--note", help="Why.")]


@stock_app.command("damage", context_settings=NUMERIC_ARGS)
def damage(ctx: typer.Context, sku: str, location: str, qty: str, note: Note = "") -> None:
    """Mark available units as damaged."""
    _move(ctx, (sku, location, qty), None, UnavailableReason.DAMAGED, note)


@stock_app.command("hold", context_settings=NUMERIC_ARGS)
def hold(
    ctx: typer.Context,
    sku: str,
    location: str,
    qty: str,
    reason: Annotated[
        str, typer.Option("--reason", help="quality_control, hold, safety_stock or damaged.")
    ] = "quality_control",
    note: Note = "",
) -> None:
    """Hold available units back from sale (quality control by default)."""
    target = parse_with(_reason, reason)
    _move(ctx, (sku, location, qty), None, target, note)


@stock_app.command("release", context_settings=NUMERIC_ARGS)
def release(
    ctx: typer.Context,
    sku: str,
    location: str,
    qty: str,
    source: Annotated[str, typer.Option("--from", help="The reason the units are held for.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Another reason instead of available.")
    ] = None,
    note: Note = "",
) -> None:
    """Release units from an unavailable reason back to available (or to another reason)."""
    origin = parse_with(_reason, source)
    target = None if to is None else parse_with(_reason, to)
    _move(ctx, (sku, location, qty), origin, target, note)


@stock_app.command("show")
def show(ctx: typer.Context, sku: str, as_json: Json = False) -> None:
    """The stock of an item at every location."""
    with errors_as_exit():
        rows = stock.stock_of(state(ctx).services(), sku)
    if as_json:
        emit_json([state_json(loc, s) for loc, s in rows])
        return
    table = Table(
        "location", "on_hand", "committed", *UnavailableReason, "available", "incoming", title=sku
    )
    for loc, s in rows:
        table.add_row(
            loc,
            str(s.on_hand),
            str(s.committed),
            *(str(s.unavailable[r]) for r in UnavailableReason),
            f"[bold]{s.available}[/bold]",
            str(s.incoming),
        )
    out.print(table)


@stock_app.command("movements")
def movements(
    ctx: typer.Context,
    sku: str,
    location: Annotated[str | None, typer.Option(help="Only this location.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 100,
    as_json: Json = False,
) -> None:
    """The movements of an item, newest first."""
    with errors_as_exit():
        rows = stock.movements_of(state(ctx).services(), sku, location=location, limit=limit)
    if as_json:
        emit_json([{**m.__dict__, "at": m.at.isoformat()} for m in rows])
        return
    table = Table(
        "time",
        "location",
        "kind",
        "quantity",
        "reason",
        "actor",
        "reference",
        title=f"movements of {sku}",
    )
    for m in rows:
        table.add_row(
            m.at.strftime("%Y-%m-%d %H:%M:%S"),
            m.location,
            m.kind.value,
            f"{m.quantity:+d}",
            m.reason,
            m.actor,
            m.reference,
        )
    out.print(table)


def transfer_json(t: Transfer) -> dict[str, object]:
    """A transfer as JSON."""
    return {
        "id": t.id,
        "from": t.source,
        "to": t.destination,
        "status": t.status.value,
        "reference": t.reference,
        "created_at": t.created_at.isoformat(),
        "expected_at": t.expected_at.isoformat() if t.expected_at else None,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "received": line.received,
                "cancelled": line.cancelled,
                "in_transit": line.in_transit,
            }
            for line in t.lines
        ],
    }


def _print_transfer(t: Transfer, as_json: bool) -> None:
    if as_json:
        emit_json(transfer_json(t))
        return
    expected = f", expected {t.expected_at:%Y-%m-%d}" if t.expected_at else ""
    out.print(f"transfer {t.id} {t.source} -> {t.destination}: {t.status.value}{expected}")
    table = Table("SKU", "shipped", "received", "cancelled", "in transit")
    for line in t.lines:
        table.add_row(
            line.sku,
            str(line.quantity),
            str(line.received),
            str(line.cancelled),
            str(line.in_transit),
        )
    out.print(table)


@stock_app.command("transfer", context_settings=NUMERIC_ARGS)
def transfer(
    ctx: typer.Context,
    sku: Annotated[str | None, typer.Argument()] = None,
    source: Annotated[str | None, typer.Argument(metavar="FROM")] = None,
    destination: Annotated[str | None, typer.Argument(metavar="TO")] = None,
    qty: Annotated[str | None, typer.Argument(metavar="QTY")] = None,
    receive_id: Annotated[
        int | None, typer.Option("--receive", help="Receive this transfer id instead.")
    ] = None,
    quantity: Annotated[
        str | None, typer.Option("--quantity", help="With --receive: only this many.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Ship SKU from FROM to TO now (in transit), or `--receive ID` at its destination."""
    services, actor = state(ctx).services, state(ctx).actor_for()
    if receive_id is not None:
        if sku is not None:
            fail("give either SKU FROM TO QTY to ship, or --receive ID, not both")
        with errors_as_exit():
            t = transfers.get_transfer(services(), receive_id)
            part: dict[str, int] | None = None
            if quantity is not None:
                if len(t.lines) != 1:
                    fail("--quantity needs a one-line transfer; use `transfer receive` per SKU")
                part = {t.lines[0].sku: parse_with(units, quantity)}
            t = transfers.receive_transfer(services(), receive_id, part, actor=actor)
        _print_transfer(t, as_json)
        return
    if sku is None or source is None or destination is None or qty is None:
        fail("give SKU FROM TO QTY to ship a transfer, or --receive ID to receive one")
    amount = parse_with(units, qty)
    with errors_as_exit():
        t = transfers.ship_transfer(services(), source, destination, {sku: amount}, actor=actor)
    _print_transfer(t, as_json)


def _sku_quantities(texts: list[str]) -> dict[str, int]:
    lines: dict[str, int] = {}
    for text in texts:
        sku, _, qty = text.rpartition(":")
        if not sku or sku in lines:
            fail(f"--line must be SKU:QTY, once per SKU, got {text!r}")
        lines[sku] = parse_with(units, qty)
    return lines


@transfer_app.command("create")
def transfer_create(
    ctx: typer.Context,
    source: Annotated[str, typer.Option("--from", help="Ship from this location.")],
    destination: Annotated[str, typer.Option("--to", help="To this location.")],
    line: Annotated[list[str], typer.Option("--line", help="SKU:QTY (repeat for more lines).")],
    expected: Annotated[
        str | None, typer.Option("--expected", help="Expected arrival, YYYY-MM-DD.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Ship a transfer of several lines now: gone from FROM, incoming at TO until received."""
    lines = _sku_quantities(line)
    when = None if expected is None else parse_with(parse_instant, expected)
    with errors_as_exit():
        t = transfers.ship_transfer(
            state(ctx).services(),
            source,
            destination,
            lines,
            actor=state(ctx).actor_for(),
            expected_at=when,
        )
    _print_transfer(t, as_json)


@transfer_app.command("receive")
def transfer_receive(
    ctx: typer.Context,
    transfer_id: int,
    line: Annotated[
        list[str] | None, typer.Option("--line", help="SKU:QTY received (repeat); all if none.")
    ] = None,
    as_json: Json = False,
) -> None:
    """Receive a transfer at its destination, whole or in part."""
    part = _sku_quantities(line or [])
    with errors_as_exit():
        t = transfers.receive_transfer(
            state(ctx).services(), transfer_id, part, actor=state(ctx).actor_for()
        )
    _print_transfer(t, as_json)


@transfer_app.command("cancel")
def transfer_cancel(ctx: typer.Context, transfer_id: int, as_json: Json = False) -> None:
    """Cancel a transfer: what is still in transit goes back to the source."""
    with errors_as_exit():
        t = transfers.cancel_transfer(
            state(ctx).services(), transfer_id, actor=state(ctx).actor_for()
        )
    _print_transfer(t, as_json)


@transfer_app.command("show")
def transfer_show(ctx: typer.Context, transfer_id: int, as_json: Json = False) -> None:
    """One transfer with its lines."""
    with errors_as_exit():
        t = transfers.get_transfer(state(ctx).services(), transfer_id)
    _print_transfer(t, as_json)


@transfer_app.command("list")
def transfer_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="in_transit, received, ...")] = None,
    as_json: Json = False,
) -> None:
    """The newest transfers."""
    wanted = None
    if status is not None:
        try:
            wanted = TransferStatus(status)
        except ValueError:
            fail(f"status must be one of {', '.join(s.value for s in TransferStatus)}")
    with errors_as_exit():
        rows = transfers.list_transfers(state(ctx).services(), status=wanted)
    if as_json:
        emit_json([transfer_json(t) for t in rows])
        return
    table = Table("id", "from", "to", "status", "lines", "in transit", "created")
    for t in rows:
        table.add_row(
            str(t.id),
            t.source,
            t.destination,
            t.status.value,
            str(len(t.lines)),
            str(sum(line.in_transit for line in t.lines)),
            t.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
