"""`stockpool serve`: run the REST API with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from stockpool.bootstrap import build_services
from stockpool.cli.context import errors_as_exit, out, state


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (one per core is usual).")] = 1,
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the REST API (OpenAPI document at /openapi.json, docs at /docs)."""
    settings = state(ctx).settings
    with errors_as_exit():
        build_services(settings).uow.engine.dispose()  # type: ignore[attr-defined]
    os.environ["STOCKPOOL_DATABASE_URL"] = settings.database_url
    os.environ["STOCKPOOL_DATA_DIR"] = str(settings.data_dir)
    out.print(f"serving the API on http://{host}:{port} (OpenAPI at /openapi.json)")
    uvicorn.run(
        "stockpool.api.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=log_level,
        proxy_headers=False,
    )


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("serve")(serve)
