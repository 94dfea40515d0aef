"""Commands for oversold exceptions (list with age, resolve) and zone distances."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, out, parse_with, state
from stockpool.cli.orders import Json, order_json, orders_app
from stockpool.domain.orders import OversoldException
from stockpool.domain.quantities import parse_units
from stockpool.services import order_lifecycle, orders, sourcing

zone_app = typer.Typer(help="Zone distances, for nearest-zone sourcing.", no_args_is_help=True)


def exception_json(x: OversoldException, now: datetime) -> dict[str, Any]:
    """An oversold exception as JSON."""
    return {
        "channel": x.channel,
        "external_id": x.external_id,
        "line": x.line_no,
        "listing": x.listing_id,
        "missing": x.missing,
        "items": dict(x.items),
        "created_at": x.created_at,
        "resolved_at": x.resolved_at,
        "age_seconds": x.age_seconds(now),
    }


def _age(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    return f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {rest // 60}m"


@orders_app.command("exceptions")
def exceptions(
    ctx: typer.Context,
    include_resolved: Annotated[bool, typer.Option("--all", help="Resolved ones too.")] = False,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    as_json: Json = False,
) -> None:
    """Oversold exceptions, oldest first, with their age."""
    services = state(ctx).services()
    with errors_as_exit():
        found = orders.exceptions(services, include_resolved=include_resolved, channel=channel)
    now = services.clock()
    if as_json:
        emit_json([exception_json(x, now) for x in found])
        return
    table = Table(
        "channel", "order", "line", "listing", "missing", "short items", "age", "resolved"
    )
    for x in found:
        short = ", ".join(f"{sku} {units}" for sku, units in sorted(x.items.items()))
        resolved = x.resolved_at.strftime("%Y-%m-%d %H:%M") if x.resolved_at else ""
        table.add_row(
            x.channel,
            x.external_id,
            str(x.line_no),
            x.listing_id,
            str(x.missing),
            short,
            _age(x.age_seconds(now)),
            resolved,
        )
    out.print(table)


@orders_app.command("resolve")
def resolve(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option("--channel")] = None,
    as_json: Json = False,
) -> None:
    """Commit what stock now allows to every order with an open oversold exception."""
    with errors_as_exit():
        done = order_lifecycle.resolve(state(ctx).services(), channel=channel)
    still = sum(x.missing for o in done for x in o.lines)
    if as_json:
        emit_json({"orders": [order_json(o) for o in done], "still_missing": still})
        return
    out.print(f"looked at {len(done)} orders; {still} units still oversold")


@zone_app.command("distance")
def zone_distance(ctx: typer.Context, zone_a: str, zone_b: str, distance: str) -> None:
    """Set the distance between two zones (both ways), for nearest-zone sourcing."""
    units = parse_with(lambda t: parse_units(t, what="distance", allow_zero=True), distance)
    with errors_as_exit():
        a, b, d = sourcing.set_zone_distance(state(ctx).services(), zone_a, zone_b, units)
    out.print(f"distance {a} - {b}: {d}")


@zone_app.command("list")
def zone_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every zone distance."""
    with errors_as_exit():
        found = sourcing.zone_distances(state(ctx).services())
    if as_json:
        emit_json([{"zone_a": a, "zone_b": b, "distance": d} for a, b, d in found])
        return
    table = Table("zone", "zone", "distance")
    for a, b, d in found:
        table.add_row(a, b, str(d))
    out.print(table)
