"""The command line's shared state: settings from global options, errors to exit codes."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

import typer
from rich.console import Console

from stockpool.bootstrap import Settings, build_services, load_settings
from stockpool.domain.errors import InvalidInput, StockpoolError
from stockpool.services.context import Services
from stockpool.services.stock import Actor

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """Options given before the command, and the services built from them on first use."""

    database_url: str | None = None
    actor: str = ""
    _services: Services | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """Settings with `--db` applied."""
        return load_settings(self.database_url)

    def services(self) -> Services:
        """Services on the chosen database (built once)."""
        if self._services is None:
            self._services = build_services(self.settings)
        return self._services

    def actor_for(self, reference: str = "") -> Actor:
        """Who is acting, for the ledger."""
        return Actor(self.actor or default_actor(), reference)


def default_actor() -> str:
    """`cli:<user>` unless STOCKPOOL_ACTOR says otherwise."""
    env = os.environ.get("STOCKPOOL_ACTOR")
    if env:
        return env
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def state(ctx: typer.Context) -> CliState:
    """The CliState of this invocation."""
    obj = ctx.find_root().obj
    assert isinstance(obj, CliState)
    return obj


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one clear message on stderr and exit with `code`."""
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def errors_as_exit() -> Iterator[None]:
    """Turn stockpool's own errors into one message and exit code 2."""
    try:
        yield
    except StockpoolError as exc:
        fail(str(exc))


def emit_json(value: Any) -> None:
    """Print a JSON document on stdout."""
    typer.echo(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def parse_with(parser: Callable[[str], Any], text: str) -> Any:
    """Parse an argument with a domain parser, failing cleanly."""
    try:
        return parser(text)
    except InvalidInput as exc:
        fail(str(exc))
