"""How many check-and-reserve orders per second the API accepts, against the in-process rate.

The catalog and order mix of `benchmarks/orders.py` (10,000 items, 3 locations, 6 channels,
orders of 1-3 lines over Zipf-distributed items). N concurrent clients send
`POST /v1/orders/reserve` over HTTP to `stockpool serve` (uvicorn, one worker per core) on
127.0.0.1; in the same run, the same number of threads call `services.orders.reserve`
directly on the same store: the in-process rate the HTTP rate is judged against. Rounds
alternate between the two and the medians are reported. Oversells are counted afterwards
as in `benchmarks/orders.py`. Last line: one JSON object.

    python benchmarks/api.py [--quick] [--clients N] [--stores sqlite,postgres]
                             [--stock demand|flat]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import httpx

from stockpool.bootstrap import Settings, build_services, initialise
from stockpool.services import access

HERE = Path(__file__).parent


def _orders_benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("orders_benchmark", HERE / "orders.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _orders_benchmark()
console = bench.console


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """`stockpool serve` in a child process."""

    def __init__(self, url: str, workers: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        arguments = ["--db", url, "serve", "--port", str(self.port), "--workers", str(workers)]
        code = "from stockpool.cli.main import run; run()"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, *arguments, "--log-level", "warning"],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the API server did not start")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class RawClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams.

    The load generator shares the machine with the server it measures: httpx spends about
    2 ms of CPU per request, which on 2 cores would be a large share of what the server
    gets. This client writes the request bytes and reads the status, headers and a
    Content-Length body, and little else.
    """

    def __init__(self, base: str, key: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.head = (
            f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\n"
        )
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        request = f"POST {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n"
        self.writer.write(request.encode("latin-1") + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise RuntimeError("chunked answers are not expected here")
        return status, await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def http_round(
    base: str, key: str, load: object, clients: int, seconds: float, serial: list[int]
) -> float:
    """Accepted orders per second over HTTP from `clients` concurrent clients."""
    assert isinstance(load, bench.Load)
    stop = time.perf_counter() + seconds
    accepted_before = load.accepted

    async def one(index: int) -> None:
        rng = random.Random(index * 7919 + int(time.time() * 1000))
        client = RawClient(base, key)
        try:
            while time.perf_counter() < stop:
                channel = rng.choice(bench.CHANNELS)
                picked = {load.zipf.draw(rng) for _ in range(rng.randint(1, 3))}
                serial[0] += 1
                body = {
                    "channel": channel,
                    "external_id": f"h-{serial[0]}",
                    "lines": [{"listing": f"{channel}-{n}", "quantity": 1} for n in sorted(picked)],
                }
                start = time.perf_counter()
                status, answer = await client.post("/v1/orders/reserve", json.dumps(body).encode())
                took = time.perf_counter() - start
                if status == 201:
                    load.accepted += 1
                    load.latencies.append(took)
                    for n in picked:
                        load.units[bench.sku(n)] = load.units.get(bench.sku(n), 0) + 1
                elif status == 409:
                    load.refused += 1
                else:
                    raise RuntimeError(f"unexpected answer {status}: {answer[:500]!r}")
        finally:
            await client.close()

    begin = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(clients)))
    accepted: int = load.accepted - accepted_before
    return accepted / (time.perf_counter() - begin)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)


def measure(
    store: str, seconds: float, clients: int, workdir: Path, stock: str = "demand"
) -> dict[str, float]:
    if store == "sqlite":
        url = f"sqlite:///{workdir / 'api.db'}"
    else:
        url = bench.fresh_postgres("stockpool_bench_api")
    settings = Settings(database_url=url, data_dir=workdir)
    initialise(settings).dispose()
    app = build_services(settings, pool_size=clients)
    engine = app.uow.engine  # type: ignore[attr-defined]
    console.print(f"[bold]{store}[/bold]: seeding {bench.ITEMS} items")
    bench.seed(app, engine, stock)
    key = access.create_key(app, "operator", name="benchmark").secret
    server = Server(url, workers=os.cpu_count() or 1)
    load = bench.Load(app, clients)
    serial = [0]
    rounds = 3
    http_rates: list[float] = []
    local_rates: list[float] = []
    http_latencies: list[float] = []
    try:
        load.run(min(2.0, seconds / rounds))  # warm the in-process plan and connections
        asyncio.run(http_round(server.base, key, load, clients, 1.0, serial))  # and the server
        for _ in range(rounds):
            load.latencies.clear()
            http_rates.append(
                asyncio.run(http_round(server.base, key, load, clients, seconds / rounds, serial))
            )
            http_latencies += load.latencies
            local_rates.append(load.run(seconds / rounds))
    finally:
        server.stop()
    http, local = statistics.median(http_rates), statistics.median(local_rates)
    figures = {
        "orders_per_s": round(http, 1),
        "in_process_orders_per_s": round(local, 1),
        "ratio": round(http / local, 3),
        "p50_ms": percentile(http_latencies, 0.5),
        "p99_ms": percentile(http_latencies, 0.99),
        "accepted": load.accepted,
        "refused": load.refused,
        "oversells": bench.oversells(app, engine, load),
    }
    engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A short run (6 s per store).")
    parser.add_argument("--seconds", type=float, default=30.0, help="Seconds per store.")
    parser.add_argument("--clients", type=int, default=16, help="Concurrent clients.")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument(
        "--stock", choices=("demand", "flat"), default="demand", help="See benchmarks/orders.py."
    )
    args = parser.parse_args()
    seconds = 6.0 if args.quick else args.seconds
    result: dict[str, object] = {
        "benchmark": "api",
        "cores": os.cpu_count(),
        "clients": args.clients,
        "stock": args.stock,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for store in args.stores.split(","):
            figures = measure(store, seconds, args.clients, Path(tmp), args.stock)
            console.print(store, figures)
            result[store] = figures
    print(json.dumps(result))


if __name__ == "__main__":
    main()
