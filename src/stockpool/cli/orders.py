"""Commands for orders: reserve, ingest, ship, cancel, return, re-source, show, list,
exceptions and resolve; and zone distances for sourcing.

`reserve` exits 0 when the order is accepted and 3 when it is refused for lack of stock
(the shortfall per line is printed). With `--file PATH` (or `-` for stdin) `reserve` and
`ingest` read one JSON object per line and print one JSON result per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.context import (
    EXIT_BAD_INPUT,
    EXIT_REFUSED,
    emit_json,
    err,
    errors_as_exit,
    fail,
    out,
    parse_with,
    state,
)
from stockpool.domain.csv_formats import parse_instant
from stockpool.domain.errors import InsufficientStock, InvalidInput, StockpoolError
from stockpool.domain.ids import ListingId
from stockpool.domain.orders import (
    LineRequest,
    NotificationKind,
    Order,
    OrderRefused,
)
from stockpool.domain.quantities import parse_units
from stockpool.services import order_lifecycle, orders
from stockpool.services.context import Services
from stockpool.services.orders import Notification

orders_app = typer.Typer(
    help="Orders: check-and-reserve, ingest, ship, cancel, return.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Channel = Annotated[str, typer.Option("--channel", help="The order's channel.")]
ExternalId = Annotated[str, typer.Option("--external-id", help="The channel's order id.")]
Reference = Annotated[
    str | None, typer.Option("--ref", help="Shipment / RMA reference: applied once.")
]
LineUnits = Annotated[
    list[str] | None, typer.Option("--line", help="LINE_NO:QTY (repeat); default: all.")
]


def _listing_line(spec: str) -> LineRequest:
    listing, _, qty = spec.rpartition(":")
    if not listing:
        raise InvalidInput(f"--line must be LISTING_ID:QTY, got {spec!r}")
    return LineRequest(ListingId(listing), parse_units(qty, what=f"quantity of {listing}"))


def _numbered(specs: list[str] | None) -> dict[int, int] | None:
    if not specs:
        return None
    found: dict[int, int] = {}
    for spec in specs:
        number, _, qty = spec.partition(":")
        line_no = parse_with(lambda t: parse_units(t, what="line number"), number)
        found[line_no] = parse_with(lambda t: parse_units(t, what="quantity"), qty or "?")
    return found


def order_json(order: Order) -> dict[str, Any]:
    """An order as JSON."""
    return {
        "channel": order.channel,
        "external_id": order.external_id,
        "kind": order.kind.value,
        "status": order.status.value,
        "ship_to_zone": order.ship_to_zone,
        "channel_updated_at": order.channel_updated_at,
        "created_at": order.created_at,
        "lines": [
            {
                "line": x.line_no,
                "listing": x.listing_id,
                "sku": x.sku,
                "quantity": x.quantity,
                "shipped": x.shipped,
                "cancelled": x.cancelled,
                "returned": x.returned,
                "open": x.open,
                "missing": x.missing,
                "sourced": [
                    {"sku": c.sku, "location": c.location, "committed": c.committed}
                    for c in x.commitments
                    if c.committed
                ],
            }
            for x in order.lines
        ],
    }


def _print_order(order: Order) -> None:
    table = Table(
        "line",
        "listing",
        "qty",
        "shipped",
        "cancelled",
        "returned",
        "missing",
        "committed at",
        title=f"{order.channel} {order.external_id}: {order.status.value} ({order.kind.value})",
    )
    for x in order.lines:
        where = ", ".join(
            f"{c.sku}@{c.location} {c.committed}" for c in x.commitments if c.committed
        )
        table.add_row(
            str(x.line_no),
            x.listing_id,
            str(x.quantity),
            str(x.shipped),
            str(x.cancelled),
            str(x.returned),
            str(x.missing),
            where,
        )
    out.print(table)


def refusal_json(exc: OrderRefused) -> dict[str, Any]:
    """A refused order as JSON."""
    return {
        "accepted": False,
        "channel": exc.channel,
        "external_id": exc.external_id,
        "shortfall": [
            {"listing": s.listing_id, "asked": s.asked, "available": s.available}
            for s in exc.shortfall
        ],
    }


@orders_app.command("reserve")
def reserve(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option("--channel", help="The order's channel.")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id", help="Order id.")] = None,
    line: Annotated[list[str] | None, typer.Option("--line", help="LISTING_ID:QTY.")] = None,
    ship_to: Annotated[str | None, typer.Option("--ship-to", help="Ship-to zone.")] = None,
    file: Annotated[str | None, typer.Option("--file", help="JSON lines; - for stdin.")] = None,
    as_json: Json = False,
) -> None:
    """Accept an order only if every line fits ATS now (exit 3 with the shortfall if not)."""
    services = state(ctx).services()
    if file is not None:
        _bulk(file, lambda row: _reserve_row(services, ctx, row))
        return
    if channel is None or external_id is None or not line:
        fail("reserve needs --channel, --external-id and at least one --line (or --file)")
    requests = [parse_with(_listing_line, spec) for spec in line]
    try:
        result = orders.reserve(
            services,
            channel,
            external_id,
            requests,
            ship_to_zone=ship_to,
            actor=state(ctx).actor_for(),
        )
    except OrderRefused as exc:
        _print_refusal(exc, as_json)
        raise typer.Exit(EXIT_REFUSED) from None
    except InsufficientStock as exc:
        fail(str(exc), EXIT_REFUSED)
    except StockpoolError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"accepted": True, "replayed": result.replayed, **order_json(result.order)})
        return
    again = " (already accepted)" if result.replayed else ""
    out.print(f"accepted {channel} {external_id}{again}")
    _print_order(result.order)


def _print_refusal(exc: OrderRefused, as_json: bool) -> None:
    if as_json:
        emit_json(refusal_json(exc))
        return
    err.print(f"[red]refused:[/red] {exc.channel} {exc.external_id}: not enough to sell")
    table = Table("listing", "asked", "available to sell", title="shortfall")
    for s in exc.shortfall:
        table.add_row(s.listing_id, str(s.asked), str(s.available))
    out.print(table)


def _rows(file: str) -> Iterator[tuple[int, str]]:
    if file == "-":
        yield from enumerate(sys.stdin, 1)
        return
    try:
        with Path(file).open(encoding="utf-8") as handle:
            yield from enumerate(handle, 1)
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")


def _bulk(file: str, handle: Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]) -> None:
    """Run `handle` on each JSON line; one JSON result per line; the worst exit code."""
    worst = 0
    for number, text in _rows(file):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
            if not isinstance(row, dict):
                raise InvalidInput("each line must be a JSON object")
            code, result = handle(row)
        except (StockpoolError, ValueError, TypeError, KeyError) as exc:
            code, result = EXIT_BAD_INPUT, {"line": number, "error": str(exc)}
        worst = max(worst, code)
        typer.echo(json.dumps(result, default=str, ensure_ascii=False))
    raise typer.Exit(worst)


def _requests(row: dict[str, Any]) -> list[LineRequest]:
    lines = row.get("lines", [])
    if not isinstance(lines, list):
        raise InvalidInput("lines must be a list of {listing, quantity}")
    return [LineRequest(ListingId(str(x["listing"])), x["quantity"]) for x in lines]


def _reserve_row(
    services: Services, ctx: typer.Context, row: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    try:
        result = orders.reserve(
            services,
            str(row["channel"]),
            str(row["external_id"]),
            _requests(row),
            ship_to_zone=row.get("ship_to_zone"),
            actor=state(ctx).actor_for(),
        )
    except OrderRefused as exc:
        return EXIT_REFUSED, refusal_json(exc)
    return 0, {"accepted": True, "replayed": result.replayed, **order_json(result.order)}


def _notification(row: dict[str, Any]) -> Notification:
    return Notification(
        kind=_event(str(row.get("event", "create"))),
        channel=str(row["channel"]),
        external_id=str(row["external_id"]),
        updated_at=parse_instant(str(row["updated_at"]), what="updated_at"),
        lines=tuple(_requests(row)),
        ship_to_zone=row.get("ship_to_zone"),
    )


def _event(text: str) -> NotificationKind:
    try:
        return NotificationKind(text)
    except ValueError:
        raise InvalidInput(f"event must be create, update or cancel, got {text!r}") from None


@orders_app.command("ingest")
def ingest(
    ctx: typer.Context,
    event: Annotated[str, typer.Option("--event", help="create, update or cancel.")] = "create",
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    updated_at: Annotated[
        str | None, typer.Option("--updated-at", help="The channel's update time (ISO).")
    ] = None,
    line: Annotated[list[str] | None, typer.Option("--line", help="LISTING_ID:QTY.")] = None,
    ship_to: Annotated[str | None, typer.Option("--ship-to")] = None,
    file: Annotated[str | None, typer.Option("--file", help="JSON lines; - for stdin.")] = None,
    as_json: Json = False,
) -> None:
    """Record a channel's order exactly once; uncovered units become oversold exceptions."""
    services = state(ctx).services()
    actor = state(ctx).actor_for()

    def run(row: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        done = orders.ingest(services, _notification(row), actor=actor)
        return 0, {"action": done.action, **order_json(done.order)}

    if file is not None:
        _bulk(file, run)
        return
    if channel is None or external_id is None or updated_at is None:
        fail("ingest needs --channel, --external-id and --updated-at (or --file)")
    with errors_as_exit():
        row = {
            "event": event,
            "channel": channel,
            "external_id": external_id,
            "updated_at": updated_at,
            "ship_to_zone": ship_to,
            "lines": [
                {"listing": r.listing_id, "quantity": r.quantity}
                for r in (_listing_line(spec) for spec in line or [])
            ],
        }
        _, result = run(row)
    if as_json:
        emit_json(result)
        return
    out.print(f"{result['action']} {channel} {external_id}")


def _transition(run: Callable[[], Order], as_json: bool, verb: str) -> None:
    with errors_as_exit():
        order = run()
    if as_json:
        emit_json(order_json(order))
        return
    out.print(f"{verb} {order.channel} {order.external_id}: {order.status.value}")
    _print_order(order)


@orders_app.command("ship")
def ship(
    ctx: typer.Context,
    channel: Channel,
    external_id: ExternalId,
    line: LineUnits = None,
    ref: Reference = None,
    as_json: Json = False,
) -> None:
    """Ship listing units per line (default: every committed open unit)."""
    units, cli = _numbered(line), state(ctx)
    _transition(
        lambda: order_lifecycle.ship(
            cli.services(), channel, external_id, units, reference=ref, actor=cli.actor_for()
        ),
        as_json,
        "shipped",
    )


@orders_app.command("cancel")
def cancel(
    ctx: typer.Context,
    channel: Channel,
    external_id: ExternalId,
    line: LineUnits = None,
    ref: Reference = None,
    as_json: Json = False,
) -> None:
    """Cancel open listing units per line (default: the whole order)."""
    units, cli = _numbered(line), state(ctx)
    _transition(
        lambda: order_lifecycle.cancel(
            cli.services(), channel, external_id, units, reference=ref, actor=cli.actor_for()
        ),
        as_json,
        "cancelled",
    )


@orders_app.command("return")
def return_units(
    ctx: typer.Context,
    channel: Channel,
    external_id: ExternalId,
    line: LineUnits = None,
    damaged: Annotated[bool, typer.Option("--damaged", help="Restock as damaged.")] = False,
    ref: Reference = None,
    as_json: Json = False,
) -> None:
    """Take shipped units back, to available (or to damaged)."""
    units, cli = _numbered(line), state(ctx)
    _transition(
        lambda: order_lifecycle.return_units(
            cli.services(),
            channel,
            external_id,
            units,
            damaged=damaged,
            reference=ref,
            actor=cli.actor_for(),
        ),
        as_json,
        "returned",
    )


@orders_app.command("resource")
def resource(
    ctx: typer.Context,
    channel: Channel,
    external_id: ExternalId,
    line: Annotated[int, typer.Option("--line", help="The line number.")],
    to: Annotated[str, typer.Option("--to", help="The location to commit it at.")],
    as_json: Json = False,
) -> None:
    """Move a line's open commitment to another eligible location (atomically)."""
    services = state(ctx).services()
    _transition(
        lambda: order_lifecycle.resource(services, channel, external_id, line, to),
        as_json,
        "re-sourced",
    )


@orders_app.command("show")
def show(
    ctx: typer.Context, channel: Channel, external_id: ExternalId, as_json: Json = False
) -> None:
    """One order, its lines and where they are committed."""
    _transition(lambda: orders.show(state(ctx).services(), channel, external_id), as_json, "order")


@orders_app.command("list")
def list_orders(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    status: Annotated[str | None, typer.Option("--status", help="open, shipped, cancelled")] = None,
    limit: int = 50,
    as_json: Json = False,
) -> None:
    """The newest orders first."""
    with errors_as_exit():
        found = orders.list_orders(
            state(ctx).services(), channel=channel, status=status, limit=limit
        )
    if as_json:
        emit_json([order_json(o) for o in found])
        return
    table = Table("channel", "order", "kind", "status", "lines", "open", "missing", "created")
    for o in found:
        table.add_row(
            o.channel,
            o.external_id,
            o.kind.value,
            o.status.value,
            str(len(o.lines)),
            str(sum(x.open for x in o.lines)),
            str(sum(x.missing for x in o.lines)),
            o.created_at.strftime("%Y-%m-%d %H:%M"),
        )
    out.print(table)
