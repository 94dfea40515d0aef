"""The README's demo commands run as written, on a fresh store."""

from __future__ import annotations

import shlex
from pathlib import Path

from typer.testing import CliRunner

from stockpool.cli.main import app

README = Path(__file__).parents[2] / "README.md"
runner = CliRunner()


def demo_commands() -> list[list[str]]:
    """The `stockpool` commands of the README's demo section."""
    section = README.read_text(encoding="utf-8").split("## The demo", 1)[1].split("\n## ", 1)[0]
    return [
        shlex.split(line.split("$ stockpool", 1)[1].split("#")[0])
        for line in section.splitlines()
        if line.startswith("$ stockpool")
    ]


def test_the_demo_commands_of_the_readme_run(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    commands = demo_commands()
    assert [c[:2] for c in commands] == [["demo", "generate"], ["demo", "live"]]
    assert runner.invoke(app, ["--db", db, "init"]).exit_code == 0
    printed = []
    for args in commands:
        result = runner.invoke(app, ["--db", db, *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
        printed.append(result.stdout)
    assert printed[0].startswith("generated 2000 items, 60 bundles, 6747 listings and ")
    assert "available to sell, live" in printed[1]
    assert runner.invoke(app, ["--db", db, "verify"]).exit_code == 0
