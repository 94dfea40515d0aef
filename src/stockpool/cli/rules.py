"""Commands for allocation rules and event profiles."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.channels import codes
from stockpool.cli.context import emit_json, errors_as_exit, fail, out, parse_with, state
from stockpool.domain.quantities import parse_units
from stockpool.services import rules
from stockpool.services.rules import RuleChange

rule_app = typer.Typer(
    help="Allocation rules: protect, buffer, percent, max, floor.", no_args_is_help=True
)
event_app = typer.Typer(
    help="Event profiles: rule overrides with a start and an end.", no_args_is_help=True
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail(f"not a date and time: {text!r} (use ISO 8601, e.g. 2026-11-27T00:00Z)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        "eligible_locations": None if locations is None else codes(locations),
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
