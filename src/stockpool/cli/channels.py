"""Commands for channels, listings and bundles."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, fail, out, parse_with, state
from stockpool.domain.channels import SalesChannel
from stockpool.domain.quantities import parse_units
from stockpool.services import channels

channel_app = typer.Typer(
    help="Sales channels and the locations that serve them.", no_args_is_help=True
)
listing_app = typer.Typer(help="Listings: what each channel sells.", no_args_is_help=True)
bundle_app = typer.Typer(
    help="Bundles (kits) made of items and other bundles.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def channel_json(c: SalesChannel) -> dict[str, Any]:
    """A channel as JSON."""
    return {
        "code": c.code,
        "name": c.name,
        "kind": c.kind.value,
        "account": c.account,
        "priority": c.priority,
        "fee_rate": str(c.fee_rate),
        "locations": sorted(c.eligible_locations),
    }


@channel_app.command("add")
def channel_add(
    ctx: typer.Context,
    code: str,
    kind: Annotated[str, typer.Option("--kind", help="shopify, amazon, walmart, ebay, ...")],
    locations: Annotated[str, typer.Option("--locations", help="Eligible locations: WH1,WH2")],
    priority: Annotated[int, typer.Option(help="Lower is served first.")] = 100,
    name: Annotated[str | None, typer.Option(help="Readable name.")] = None,
    account: Annotated[str, typer.Option(help="Account or shop on the platform.")] = "",
    fee_rate: Annotated[str | None, typer.Option("--fee-rate", help="0.15 for 15%.")] = None,
) -> None:
    """Add a channel served from the given locations."""
    with errors_as_exit():
        c = channels.add_channel(
            state(ctx).services(),
            code,
            kind,
            codes(locations),
            name=name,
            account=account,
            priority=priority,
            fee_rate=fee_rate,
        )
    served = ", ".join(sorted(c.eligible_locations))
    out.print(f"added channel {c.code} ({c.kind.value}) served from {served}")


@channel_app.command("update")
def channel_update(
    ctx: typer.Context,
    code: str,
    locations: Annotated[str | None, typer.Option("--locations")] = None,
    priority: Annotated[int | None, typer.Option()] = None,
    name: Annotated[str | None, typer.Option()] = None,
    account: Annotated[str | None, typer.Option()] = None,
    fee_rate: Annotated[str | None, typer.Option("--fee-rate")] = None,
    sourcing: Annotated[
        str | None,
        typer.Option(help="priority, nearest_zone, fewest_shipments or most_stock."),
    ] = None,
) -> None:
    """Change a channel (its eligible locations are replaced when given)."""
    with errors_as_exit():
        channels.update_channel(
            state(ctx).services(),
            code,
            name=name,
            account=account,
            priority=priority,
            fee_rate=fee_rate,
            sourcing=sourcing,
            locations=None if locations is None else codes(locations),
        )
    out.print(f"updated channel {code}")


@channel_app.command("list")
def channel_list(ctx: typer.Context, as_json: Json = False) -> None:
    """All channels by priority."""
    with errors_as_exit():
        rows = channels.list_channels(state(ctx).services())
    if as_json:
        emit_json([channel_json(c) for c in rows])
        return
    table = Table("code", "kind", "priority", "fee rate", "locations", "account")
    for c in rows:
        table.add_row(
            c.code,
            c.kind.value,
            str(c.priority),
            str(c.fee_rate),
            ",".join(sorted(c.eligible_locations)),
            c.account,
        )
    out.print(table)


@listing_app.command("add")
def listing_add(
    ctx: typer.Context,
    channel: str,
    listing_id: str,
    sku: str,
    units: Annotated[
        str, typer.Option("--units", help="Units per listing unit (6-pack: 6).")
    ] = "1",
    channel_sku: Annotated[str | None, typer.Option("--channel-sku")] = None,
) -> None:
    """Map a channel's listing to an item or a bundle."""
    count = parse_with(lambda t: parse_units(t, what="units"), units)
    with errors_as_exit():
        x = channels.add_listing(
            state(ctx).services(), channel, listing_id, sku, units=count, channel_sku=channel_sku
        )
    out.print(f"added listing {x.listing_id} on {x.channel}: {x.units} x {x.sku}")


@listing_app.command("list")
def listing_list(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this item or bundle.")] = None,
    as_json: Json = False,
) -> None:
    """Listings with their stored ATS and version."""
    with errors_as_exit():
        rows = channels.list_listings(state(ctx).services(), channel=channel, sku=sku)
    if as_json:
        emit_json(
            [
                {
                    "channel": x.channel,
                    "listing": x.listing_id,
                    "sku": x.sku,
                    "units": x.units,
                    "bundle": x.is_bundle,
                    "ats": x.ats,
                    "version": x.ats_version,
                }
                for x in rows
            ]
        )
        return
    table = Table("channel", "listing", "SKU", "units", "ATS", "version")
    for x in rows:
        table.add_row(
            x.channel,
            x.listing_id,
            x.sku + (" (bundle)" if x.is_bundle else ""),
            str(x.units),
            str(x.ats),
            str(x.ats_version),
        )
    out.print(table)


def _components(specs: list[str]) -> list[tuple[str, int]]:
    parts = []
    for spec in specs:
        sku, _, qty = spec.rpartition(":")
        if not sku:
            fail(f"--component must be SKU:QTY, got {spec!r}")
        parts.append((sku, parse_with(partial(parse_units, what=f"quantity of {sku}"), qty)))
    return parts


Components = Annotated[list[str], typer.Option("--component", help="SKU:QTY (repeat).")]


@bundle_app.command("add")
def bundle_add(
    ctx: typer.Context,
    sku: str,
    component: Components,
    title: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a bundle of components (items or other bundles)."""
    with errors_as_exit():
        b = channels.save_bundle(state(ctx).services(), sku, _components(component), title=title)
    out.print(f"added bundle {b.sku}: " + ", ".join(f"{q} x {s}" for s, q in b.components))


@bundle_app.command("update")
def bundle_update(ctx: typer.Context, sku: str, component: Components) -> None:
    """Replace a bundle's components."""
    with errors_as_exit():
        b = channels.save_bundle(state(ctx).services(), sku, _components(component), replace=True)
    out.print(f"updated bundle {b.sku}: " + ", ".join(f"{q} x {s}" for s, q in b.components))


@bundle_app.command("list")
def bundle_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every bundle and its components."""
    with errors_as_exit():
        rows = channels.list_bundles(state(ctx).services())
    if as_json:
        emit_json(
            [
                {
                    "sku": b.sku,
                    "title": t,
                    "components": [{"sku": s, "quantity": q} for s, q in b.components],
                }
                for b, t in rows
            ]
        )
        return
    table = Table("bundle", "title", "components")
    for b, t in rows:
        table.add_row(b.sku, t, ", ".join(f"{q} x {s}" for s, q in b.components))
    out.print(table)
