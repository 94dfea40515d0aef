"""The root of the `stockpool` command."""

from __future__ import annotations

from typing import Annotated

import typer

from stockpool.cli import (
    admin,
    ats,
    catalog,
    channels,
    counts,
    demo,
    interchange,
    keys,
    order_exceptions,
    orders,
    purchasing,
    rules,
    serve,
    stock,
    sync,
)
from stockpool.cli.context import CliState

app = typer.Typer(
    name="stockpool",
    help="stockpool: one stock ledger, available-to-sell on every channel.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (sqlite:///PATH or postgresql://...). Default: "
            "$STOCKPOOL_DATABASE_URL, else SQLite in $STOCKPOOL_DATA_DIR (./data).",
        ),
    ] = None,
    actor: Annotated[
        str, typer.Option("--actor", help="Who is acting, recorded on every change.")
    ] = "",
) -> None:
    """Multichannel inventory: stock, available-to-sell, orders and sync."""
    ctx.obj = CliState(database_url=db, actor=actor)


admin.register(app)
app.add_typer(catalog.item_app, name="item")
app.add_typer(catalog.location_app, name="location")
app.add_typer(stock.stock_app, name="stock")
app.add_typer(stock.transfer_app, name="transfer")
app.add_typer(purchasing.supplier_app, name="supplier")
app.add_typer(purchasing.po_app, name="po")
app.add_typer(counts.count_app, name="count")
app.add_typer(interchange.import_app, name="import")
app.add_typer(interchange.export_app, name="export")
app.add_typer(channels.channel_app, name="channel")
app.add_typer(channels.listing_app, name="listing")
app.add_typer(channels.bundle_app, name="bundle")
app.add_typer(rules.rule_app, name="rule")
app.add_typer(rules.event_app, name="event")
app.add_typer(ats.ats_app, name="ats")
app.add_typer(orders.orders_app, name="orders")
app.add_typer(order_exceptions.zone_app, name="zone")
app.add_typer(keys.keys_app, name="keys")
app.add_typer(sync.sync_app, name="sync")
app.add_typer(demo.demo_app, name="demo")
serve.register(app)


def run() -> None:
    """Entry point of the `stockpool` script."""
    app()
