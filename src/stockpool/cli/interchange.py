"""Commands for CSV files: `stockpool import ...` and `stockpool export ...`.

Imports read the whole file first; a file with any bad row changes nothing (exit 2, every
bad row listed on stderr) unless --skip-bad-rows is given. Long imports show a progress
bar on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from stockpool.cli.context import err, errors_as_exit, fail, out, state
from stockpool.services import exports, imports, po_imports
from stockpool.services.imports import ImportReport

import_app = typer.Typer(help="Import CSV files.", no_args_is_help=True)
export_app = typer.Typer(help="Export CSV files (UTF-8, spreadsheet-safe).", no_args_is_help=True)

PROGRESS_FROM_ROWS = 5000

FileArg = Annotated[Path, typer.Argument(help="The CSV file.", show_default=False)]
Skip = Annotated[
    bool, typer.Option("--skip-bad-rows", help="Import the good rows, report the bad ones.")
]


def read_file(path: Path) -> bytes:
    """The bytes of an input file, failing cleanly when it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")


@contextmanager
def progress_bar(what: str) -> Iterator[Callable[[int, int], None]]:
    """A progress callback that shows a bar on stderr once the work is large enough."""
    bar: Progress | None = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_FROM_ROWS:
            return
        if bar is None:
            bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
                transient=True,
            )
            bar.start()
            bar.add_task(what, total=total)
        bar.update(bar.task_ids[0], completed=done)

    try:
        yield advance
    finally:
        if bar is not None:
            bar.stop()


def report(kind: str, path: Path, result: ImportReport) -> None:
    """Say what an import did; list skipped rows on stderr."""
    for problem in result.skipped:
        err.print(f"[yellow]skipped:[/yellow] {problem}", soft_wrap=True)
    skipped = f", {len(result.skipped)} bad rows skipped" if result.skipped else ""
    out.print(
        f"{kind} from {path.name}: {result.rows} rows, {result.imported} imported, "
        f"{result.unchanged} unchanged{skipped}",
        soft_wrap=True,
    )


@import_app.command("items")
def import_items(ctx: typer.Context, file: FileArg, skip_bad_rows: Skip = False) -> None:
    """Create or update items: sku, title[, barcode, unit_cost, price, tags]."""
    data = read_file(file)
    with errors_as_exit():
        result = imports.import_items(
            state(ctx).services(), data, name=file.name, skip_bad_rows=skip_bad_rows
        )
    report("items", file, result)


@import_app.command("locations")
def import_locations(ctx: typer.Context, file: FileArg, skip_bad_rows: Skip = False) -> None:
    """Create or update locations: code, name, kind[, zone, priority]."""
    data = read_file(file)
    with errors_as_exit():
        result = imports.import_locations(
            state(ctx).services(), data, name=file.name, skip_bad_rows=skip_bad_rows
        )
    report("locations", file, result)


@import_app.command("stock")
def import_stock(ctx: typer.Context, file: FileArg, skip_bad_rows: Skip = False) -> None:
    """Set on_hand per item and location: sku, location, on_hand."""
    data = read_file(file)
    with errors_as_exit(), progress_bar("importing stock") as progress:
        result = imports.import_stock(
            state(ctx).services(),
            data,
            name=file.name,
            actor=state(ctx).actor_for(f"import:{file.name}"),
            skip_bad_rows=skip_bad_rows,
            progress=progress,
        )
    report("stock", file, result)


@import_app.command("purchase-orders")
def import_purchase_orders(ctx: typer.Context, file: FileArg, skip_bad_rows: Skip = False) -> None:
    """Draft purchase orders: po, supplier, location, sku, quantity[, unit_cost, expected]."""
    data = read_file(file)
    with errors_as_exit():
        result = po_imports.import_purchase_orders(
            state(ctx).services(),
            data,
            name=file.name,
            actor=state(ctx).actor_for(),
            skip_bad_rows=skip_bad_rows,
        )
    report("purchase order lines", file, result)


@import_app.command("shopify-inventory")
def import_shopify_inventory(
    ctx: typer.Context,
    file: FileArg,
    skip_bad_rows: Skip = False,
    create_locations: Annotated[
        bool, typer.Option("--create-locations", help="Add locations the file names.")
    ] = False,
) -> None:
    """Set on_hand per location from Shopify's inventory CSV export (matched by name)."""
    data = read_file(file)
    with errors_as_exit(), progress_bar("importing Shopify inventory") as progress:
        result = imports.import_shopify_inventory(
            state(ctx).services(),
            data,
            name=file.name,
            actor=state(ctx).actor_for(f"shopify:{file.name}"),
            skip_bad_rows=skip_bad_rows,
            create_locations=create_locations,
            progress=progress,
        )
    report("Shopify inventory", file, result)


def _export(ctx: typer.Context, kind: str, output: Path | None) -> None:
    with errors_as_exit():
        text = exports.EXPORTERS[kind](state(ctx).services())
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_bytes(text.encode("utf-8"))
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    out.print(f"{kind} written to {output}")


Output = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
]


@export_app.command("items")
def export_items(ctx: typer.Context, output: Output = None) -> None:
    """Every item."""
    _export(ctx, "items", output)


@export_app.command("locations")
def export_locations(ctx: typer.Context, output: Output = None) -> None:
    """Every location."""
    _export(ctx, "locations", output)


@export_app.command("stock")
def export_stock(ctx: typer.Context, output: Output = None) -> None:
    """Every stock level."""
    _export(ctx, "stock", output)


@export_app.command("purchase-orders")
def export_purchase_orders(ctx: typer.Context, output: Output = None) -> None:
    """Every purchase order line."""
    _export(ctx, "purchase-orders", output)
