"""Running the `stockpool` command in-process, as tests of the command line do."""

from __future__ import annotations

from typer.testing import CliRunner

from stockpool.cli.main import app

runner = CliRunner()


def cli(db: str, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    """Run `stockpool --db DB ARGS...`; returns (exit code, stdout, stderr)."""
    result = runner.invoke(app, ["--db", db, *args], input=stdin, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr
