"""A process killed while reserving loses no accepted order and leaves the ledger sound."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from stockpool.services import catalog, channels, orders, stock
from stockpool.services.context import Services
from stockpool.services.stock import Actor
from stockpool.services.verify import verify

pytestmark = pytest.mark.slow

RUN_CLI = "import sys; from stockpool.cli.main import run; sys.argv[0] = 'stockpool'; run()"
CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from stockpool.bootstrap import Settings, build_services
    from stockpool.services import orders
    from stockpool.services.orders import line_requests
    from stockpool.services.stock import Actor

    app = build_services(Settings(database_url=sys.argv[1], data_dir=Path(sys.argv[2])))
    n = 0
    while True:
        orders.reserve(app, "web", f"c-{n}", line_requests([("W-HOT", 1 + n % 3)]),
                       actor=Actor("child"))
        print(f"c-{n}", flush=True)  # only once the order is committed
        n += 1
    """
)


def test_orders_seen_accepted_survive_a_sigkill(
    app: Services, database_url: str, tmp_path: Path
) -> None:
    catalog.add_location(app, "WH1", "Main", "warehouse")
    catalog.add_location(app, "WH2", "Second", "warehouse")
    catalog.add_item(app, "HOT", "Hot seller")
    stock.receive(app, "HOT", "WH1", 5_000, actor=Actor("t"))
    stock.receive(app, "HOT", "WH2", 5_000, actor=Actor("t"))
    channels.add_channel(app, "web", "shopify", ["WH1", "WH2"])
    channels.add_listing(app, "web", "W-HOT", "HOT")
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, database_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    ) as child:
        assert child.stdout is not None
        deadline = time.monotonic() + 60
        while len(seen) < 150 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            seen.append(line.strip())
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        seen += [line.strip() for line in child.stdout.read().splitlines() if line.strip()]
    assert len(seen) >= 150
    report = verify(app)
    assert report.clean, report
    recorded = {o.external_id: o for o in orders.list_orders(app, limit=10_000)}
    assert set(seen) <= set(recorded)
    units = sum(x.quantity for o in recorded.values() for x in o.lines)
    assert sum(s.committed for _, s in stock.stock_of(app, "HOT")) == units
    cli = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "--db", database_url, "verify"],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
