"""Commands that look after the database itself: init and verify."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from stockpool.bootstrap import initialise
from stockpool.cli.context import emit_json, errors_as_exit, fail, out, state
from stockpool.services.verify import verify


def init(ctx: typer.Context) -> None:
    """Create the database schema (or bring it up to date). Safe to run again."""
    settings = state(ctx).settings
    with errors_as_exit():
        engine = initialise(settings)
    out.print(f"database ready: {engine.url.render_as_string()}")


def verify_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Rebuild every balance from the ledger and report each difference (exit 1 if any)."""
    with errors_as_exit():
        report = verify(state(ctx).services())
    if as_json:
        emit_json(
            {
                "levels_checked": report.levels_checked,
                "clean": report.clean,
                "differences": [d.__dict__ for d in report.differences],
                "invariant_violations": report.invariant_violations,
            }
        )
    elif report.clean:
        out.print(f"[green]clean[/green]: {report.levels_checked} stock levels match the ledger")
    else:
        table = Table("SKU", "location", "field", "stored", "rebuilt", title="Differences")
        for d in report.differences:
            table.add_row(d.sku, d.location, d.field, str(d.stored), str(d.rebuilt))
        out.print(table)
        for problem in report.invariant_violations:
            out.print(f"[red]invariant broken:[/red] {problem}")
    if not report.clean:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the root app."""
    app.command("init")(init)
    app.command("verify")(verify_command)


__all__ = ["fail", "register"]
