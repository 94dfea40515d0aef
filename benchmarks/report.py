"""Write benchmarks/RESULTS.md from the output of every benchmark of one run.

Reads `NAME.log` files (each benchmark's output; its last line is one JSON object or list)
from a directory and prints Markdown: the machine, the date, every figure, the raw-database
reference rates measured in the same run, and the ratios against them.

    python benchmarks/report.py LOG_DIR [--quick] > benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def last_json(path: Path) -> Any:
    """The last line of a benchmark's output that parses as JSON (None if none does)."""
    for line in reversed(path.read_text(encoding="utf-8").splitlines()):
        if line.strip().startswith(("{", "[")):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested objects and lists as `a.b.0.c` keys; a list of objects keyed by their store."""
    if isinstance(value, dict):
        found: dict[str, Any] = {}
        for key, inner in value.items():
            found.update(flatten(inner, f"{prefix}{key}."))
        return found
    if isinstance(value, list):
        found = {}
        for n, inner in enumerate(value):
            label = inner.get("store", n) if isinstance(inner, dict) else n
            found.update(flatten(inner, f"{prefix}{label}."))
        return found
    return {prefix.rstrip("."): value}


def memory() -> str:
    """Total memory, from /proc/meminfo where there is one."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def postgres_version() -> str:
    """The version of the PostgreSQL server the benchmarks use, or why there is none."""
    url = os.environ.get("STOCKPOOL_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        with psycopg.connect(url, connect_timeout=3) as connection:
            row = connection.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "unknown"
    except psycopg.Error:
        return "unreachable (PostgreSQL figures skipped)"


def machine() -> list[str]:
    """The machine and software versions, as Markdown list items."""
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, {memory()} memory, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL {postgres_version()}",
    ]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def section(name: str, figures: dict[str, Any]) -> list[str]:
    """One benchmark's figures, then its raw references and ratios."""
    lines = [f"## {name}", "", "| figure | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in figures.items()]
    raw = {k: v for k, v in figures.items() if "raw" in k.rsplit(".", 1)[-1] and "ratio" not in k}
    ratios = {k: v for k, v in figures.items() if "ratio" in k.rsplit(".", 1)[-1]}
    if raw:
        lines += ["", "Raw database reference (same run): "
                  + ", ".join(f"{k} = {_cell(v)}" for k, v in raw.items())]  # fmt: skip
    if ratios:
        lines += ["", "Ratios: " + ", ".join(f"{k} = {_cell(v)}" for k, v in ratios.items())]
    return [*lines, ""]


def report(directory: Path, *, quick: bool) -> str:
    """The whole RESULTS.md."""
    lines = [
        "# Benchmark results",
        "",
        "Written by `make bench`"
        + (" with `BENCH_QUICK=1` (short runs: indicative only)." if quick else "."),
        "Each benchmark measures its raw-database reference in the same run; numbers on a",
        "shared machine are noisy, so compare ratios rather than absolute rates.",
        "",
        *machine(),
        "",
    ]
    for path in sorted(directory.glob("*.log")):
        result = last_json(path)
        figures = flatten(result) if result is not None else {"error": "no JSON line printed"}
        lines += section(path.stem, figures)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("directory", type=Path, help="Where the NAME.log files are.")
    parser.add_argument("--quick", action="store_true", help="The run used --quick.")
    args = parser.parse_args()
    print(report(args.directory, quick=args.quick))


if __name__ == "__main__":
    main()
