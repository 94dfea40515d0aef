"""`stockpool serve`: run the REST API with uvicorn.

With several workers, each worker process opens its own listening socket on the same
address with `SO_REUSEPORT`, and the kernel spreads new connections evenly over them.
(uvicorn's own workers share one socket, and a burst of keep-alive connections then tends
to land on one worker while the others idle; its connections also keep Nagle's algorithm,
which costs each answer about 40 ms.) The parent process only watches: it starts
a worker again if one dies, and stops them all on SIGINT or SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import threading
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from stockpool.bootstrap import build_services
from stockpool.cli.context import errors_as_exit, out, state

APP = "stockpool.api.main:app_from_environment"


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
        if workers < 1:
            raise typer.BadParameter("--workers must be at least 1")
    os.environ["STOCKPOOL_DATABASE_URL"] = settings.database_url
    os.environ["STOCKPOOL_DATA_DIR"] = str(settings.data_dir)
    out.print(f"serving the API on http://{host}:{port} (OpenAPI at /openapi.json)")
    if workers == 1:
        uvicorn.run(
            APP, factory=True, host=host, port=port, log_level=log_level, proxy_headers=False
        )
        return
    if not hasattr(socket, "SO_REUSEPORT"):
        uvicorn.run(
            APP,
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            proxy_headers=False,
        )
        return
    _supervise(workers, (host, port, log_level))


def _bound(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # The protocol named, not 0: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    # connections of a socket that says it is TCP. Without it each small answer waits for
    # the client's delayed acknowledgement, about 40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def _worker(host: str, port: int, log_level: str) -> None:
    """One worker process: its own socket on the shared address, and the app on it."""
    config = uvicorn.Config(
        APP, factory=True, host=host, port=port, log_level=log_level, proxy_headers=False
    )
    sock = _bound(host, port)
    sock.listen(2048)
    uvicorn.Server(config).run(sockets=[sock])


def _supervise(count: int, where: tuple[str, int, str]) -> None:
    """Run `count` workers until SIGINT or SIGTERM; start again any that dies."""
    context = multiprocessing.get_context("spawn")
    stopping = threading.Event()
    host, port, _ = where
    probe = _bound(host, port)  # fails here, once, if the address is taken (never listens)

    def start() -> BaseProcess:
        process = context.Process(target=_worker, args=where, daemon=False)
        process.start()
        return process

    def stop(signum: int, _frame: FrameType | None) -> None:
        del signum
        stopping.set()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    processes = [start() for _ in range(count)]
    probe.close()  # the workers listen now
    while not stopping.wait(0.5):
        for n, process in enumerate(processes):
            if not process.is_alive() and not stopping.is_set():
                out.print(f"worker {process.pid} ended ({process.exitcode}); starting another")
                processes[n] = start()
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(10)
        if process.is_alive():
            process.kill()


def register(app: typer.Typer) -> None:
    """Add the command to the root app."""
    app.command("serve")(serve)
