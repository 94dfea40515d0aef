"""Commands for channels, listings, bundles, allocation rules, event profiles and ATS."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import partial
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, fail, out, parse_with, state
from stockpool.domain.channels import SalesChannel
from stockpool.domain.explanation import ListingAts
from stockpool.domain.quantities import parse_units
from stockpool.services import ats, channels, rules
from stockpool.services.ats import ExplainedSku
from stockpool.services.rules import RuleChange

channel_app = typer.Typer(
    help="Sales channels and the locations that serve them.", no_args_is_help=True
)
listing_app = typer.Typer(help="Listings: what each channel sells.", no_args_is_help=True)
bundle_app = typer.Typer(
    help="Bundles (kits) made of items and other bundles.", no_args_is_help=True
)
rule_app = typer.Typer(
    help="Allocation rules: protect, buffer, percent, max, floor.", no_args_is_help=True
)
event_app = typer.Typer(
    help="Event profiles: rule overrides with a start and an end.", no_args_is_help=True
)
ats_app = typer.Typer(help="Available-to-sell per listing, explained.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _codes(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"not a date and time: {text!r} (use ISO 8601, e.g. 2026-11-27T00:00Z)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
            _codes(locations),
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
            locations=None if locations is None else _codes(locations),
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


def _print_change(change: RuleChange, as_json: bool) -> None:
    effect = [
        {"channel": c, "listing": lid, "before": b, "after": a} for c, lid, b, a in change.effect
    ]
    if as_json:
        emit_json({"saved": change.saved, "effect": effect})
        return
    title = "saved" if change.saved else "dry run: nothing saved"
    table = Table("channel", "listing", "ATS before", "ATS after", title=title)
    for c, lid, b, a in change.effect:
        style = "" if a == b else "bold"
        table.add_row(c, lid, str(b), f"[{style}]{a}[/{style}]" if style else str(a))
    out.print(table)


def _count(name: str, text: str | None) -> int | None:
    if text is None:
        return None
    return int(parse_with(lambda t: parse_units(t, what=name, allow_zero=True), text))


@rule_app.command("set")
def rule_set(
    ctx: typer.Context,
    channel: Annotated[str | None, typer.Option(help="The channel (none: global default).")] = None,
    sku: Annotated[str | None, typer.Option(help="Only this SKU on the channel.")] = None,
    tag: Annotated[
        str | None, typer.Option(help="Only items with this tag on the channel.")
    ] = None,
    listing: Annotated[str | None, typer.Option(help="Only this listing on the channel.")] = None,
    event: Annotated[str | None, typer.Option(help="Part of this event profile.")] = None,
    protect: Annotated[str | None, typer.Option(help="Units others may never take.")] = None,
    protect_start: Annotated[str | None, typer.Option("--protect-start")] = None,
    protect_end: Annotated[str | None, typer.Option("--protect-end")] = None,
    buffer: Annotated[str | None, typer.Option(help="Units held back from the channel.")] = None,
    percent: Annotated[str | None, typer.Option(help="Show this share (0-100).")] = None,
    maximum: Annotated[str | None, typer.Option("--max", help="Never show more.")] = None,
    floor: Annotated[str | None, typer.Option(help="Below this, show 0.")] = None,
    locations: Annotated[str | None, typer.Option(help="Eligible locations: WH1,WH2")] = None,
    clear: Annotated[list[str] | None, typer.Option(help="Unset a setting (repeat).")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the effect; save nothing.")
    ] = False,
    reason: Annotated[str, typer.Option(help="Why (kept in the audit).")] = "",
    as_json: Json = False,
) -> None:
    """Set allocation settings at one level; shows the ATS of every affected listing."""
    settings: dict[str, Any] = {
        "protect": _count("protect", protect),
        "buffer": _count("buffer", buffer),
        "maximum": _count("max", maximum),
        "floor": _count("floor", floor),
        "percent": percent,
        "protect_start": None if protect_start is None else parse_time(protect_start),
        "protect_end": None if protect_end is None else parse_time(protect_end),
        "eligible_locations": None if locations is None else _codes(locations),
    }
    cli = state(ctx)
    with errors_as_exit():
        place = rules.place_for(channel=channel, sku=sku, tag=tag, listing=listing, event=event)
        change = rules.set_rule(
            cli.services(),
            place,
            settings,
            clear=clear or [],
            dry_run=dry_run,
            actor=cli.actor_for().name,
            reason=reason,
        )
    _print_change(change, as_json)


@rule_app.command("list")
def rule_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every rule, standing and in event profiles."""
    with errors_as_exit():
        found = rules.list_rules(state(ctx).services())
    names = ("protect", "buffer", "percent", "maximum", "floor")
    if as_json:
        emit_json(
            [
                {
                    "level": r.level.value,
                    "target": r.target,
                    "channel": r.channel,
                    "event": r.event,
                    **{n: _plain(getattr(r, n)) for n in names},
                    "eligible_locations": sorted(r.eligible_locations or []) or None,
                }
                for r in found
            ]
        )
        return
    table = Table("rule", *names, "locations")
    for r in found:
        table.add_row(
            r.label,
            *(_text(getattr(r, n)) for n in names),
            ",".join(sorted(r.eligible_locations or [])),
        )
    out.print(table)


def _plain(value: object) -> object:
    return None if value is None else (value if isinstance(value, int) else str(value))


def _text(value: object) -> str:
    return "" if value is None else str(value)


@rule_app.command("history")
def rule_history(ctx: typer.Context, limit: int = 50, as_json: Json = False) -> None:
    """The audit of rule changes: who, when, why, before and after."""
    with errors_as_exit():
        found = rules.rule_history(state(ctx).services(), limit=limit)
    if as_json:
        emit_json(found)
        return
    table = Table("when", "who", "rule", "why", "before", "after")
    for c in found:
        table.add_row(
            c["at"].strftime("%Y-%m-%d %H:%M"),
            c["actor"],
            c["scope"],
            c["reason"],
            _settings(c["before"]),
            _settings(c["after"]),
        )
    out.print(table)


def _settings(rule: dict[str, Any] | None) -> str:
    if rule is None:
        return "-"
    keys = ("protect", "buffer", "percent", "maximum", "floor", "eligible_locations")
    return " ".join(f"{k}={rule[k]}" for k in keys if rule.get(k) is not None)


@event_app.command("add")
def event_add(
    ctx: typer.Context,
    name: str,
    start: Annotated[str, typer.Option(help="ISO 8601 start (UTC if no zone).")],
    end: Annotated[str, typer.Option(help="ISO 8601 end, excluded.")],
) -> None:
    """Add an event profile; give it rules with `rule set --event NAME ...`."""
    with errors_as_exit():
        rules.add_event(state(ctx).services(), name, parse_time(start), parse_time(end))
    out.print(f"added event {name}")


@event_app.command("list")
def event_list(ctx: typer.Context, as_json: Json = False) -> None:
    """Every event profile."""
    with errors_as_exit():
        found = rules.list_events(state(ctx).services())
    if as_json:
        emit_json([{"name": n, "start": s.isoformat(), "end": e.isoformat()} for n, s, e in found])
        return
    table = Table("event", "start", "end")
    for n, s, e in found:
        table.add_row(n, s.isoformat(), e.isoformat())
    out.print(table)


def ats_json(x: ListingAts) -> dict[str, Any]:
    """One listing's ATS as `ats show --json` prints it."""
    return {
        "channel": x.channel,
        "listing": x.listing,
        "ats": x.ats,
        "explanation": [
            {"step": s.step, "value": s.value, "rule": s.rule, "level": s.level}
            for s in x.explanation
        ],
    }


def _print_explained(found: ExplainedSku, as_json: bool) -> None:
    if as_json:
        emit_json([ats_json(x) for x in found.listings])
        return
    for x in found.listings:
        table = Table(
            "step",
            "value",
            "rule",
            "level",
            title=f"{x.channel} {x.listing}: ATS [bold]{x.ats}[/bold]",
        )
        for s in x.explanation:
            table.add_row(s.step, str(s.value), s.rule or "", s.level or "")
        out.print(table)
    for c in found.conflicts:
        out.print(
            f"[yellow]rule conflict:[/yellow] {c.channel} protects {c.requested} of "
            f"{c.sku}, only {c.effective} can be honoured"
        )


@ats_app.command("show")
def ats_show(ctx: typer.Context, sku: str, as_json: Json = False) -> None:
    """Every listing of SKU on every channel, with its ATS and explanation."""
    with errors_as_exit():
        found = ats.show(state(ctx).services(), sku)
    _print_explained(found, as_json)


@ats_app.command("explain")
def ats_explain(ctx: typer.Context, channel: str, listing: str, as_json: Json = False) -> None:
    """Why a listing shows what it shows: every step, its number and its rule."""
    with errors_as_exit():
        found = ats.explain(state(ctx).services(), channel, listing)
    _print_explained(found, as_json)


@ats_app.command("recompute")
def ats_recompute(ctx: typer.Context) -> None:
    """Recompute every listing's ATS and store the ones that changed."""
    with errors_as_exit():
        result = ats.recompute_all(state(ctx).services())
    out.print(f"recomputed {len(result.computed)} listings; {len(result.changed)} changed")


@ats_app.command("watch")
def ats_watch(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Wait for one change, then exit.")] = False,
) -> None:
    """Recompute ATS whenever an event profile or protection window opens or closes."""
    services = state(ctx).services()
    while True:
        with errors_as_exit():
            due = ats.next_change_at(services)
        if due is None:
            out.print("no event or protection window ahead; nothing to watch")
            return
        out.print(f"next change at {due.isoformat()}")
        time.sleep(max(0.0, (due - services.clock()).total_seconds()) + 0.001)
        with errors_as_exit():
            result = ats.recompute_all(services)
        out.print(f"{len(result.changed)} listings changed at {due.isoformat()}")
        if once:
            return
