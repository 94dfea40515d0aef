"""Commands for available-to-sell: show, explain, recompute, watch."""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.table import Table

from stockpool.cli.context import emit_json, errors_as_exit, out, state
from stockpool.domain.explanation import ListingAts
from stockpool.services import ats
from stockpool.services.ats import ExplainedSku

ats_app = typer.Typer(help="Available-to-sell per listing, explained.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


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
