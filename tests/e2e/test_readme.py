"""The README's tour runs as written, and prints what the README says it prints."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from stockpool.cli.main import app

README = Path(__file__).parents[2] / "README.md"
runner = CliRunner()


def tour() -> tuple[list[list[str]], list[str]]:
    """The tour's `stockpool` commands, and the table rows of its text blocks."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    commands = [
        shlex.split(line.split("$ stockpool", 1)[1].split("#")[0])
        for line in section.splitlines()
        if line.startswith("$ stockpool")
    ]
    rows = [
        line
        for block in re.findall(r"```text\n(.*?)```", section, re.S)
        for line in block.splitlines()
        if line.startswith("│")
    ]
    return commands, rows


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_tour_runs_and_prints_what_the_readme_shows(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'tour.db'}"
    commands, rows = tour()
    assert len(commands) >= 12
    assert len(rows) >= 10
    printed = []
    for args in commands:
        result = runner.invoke(app, ["--db", db, *args], catch_exceptions=False, terminal_width=100)
        assert result.exit_code == 0, (args, result.stderr)
        printed.append(result.stdout)
    everything = squash("".join(printed))
    for row in rows:
        cells = [c.strip() for c in row.strip("│").split("│")]
        if cells[0]:  # a row that starts a record, not a wrapped continuation
            assert squash(" │ ".join(cells)) in everything, row
