"""The demo's fake Shopify, served on 127.0.0.1 by uvicorn in a thread of its own.

The fake (`stockpool.fakes.shopify.FakeShopify`) stands for a shop on another machine: it
runs on its own event loop, and stockpool reaches it only over HTTP on loopback. Everything
that touches the fake's state from outside (its customers buying, webhooks taken out of its
outbox) runs on that loop through `call`, so it never interleaves with a request the fake
is answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from typing import Any, TypeVar

import uvicorn

from stockpool.fakes.shopify import FakeShopify

T = TypeVar("T")
HOST = "127.0.0.1"
START_SECONDS = 10.0


class _Server(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class FakeShopServer:
    """Serves one fake shop on a free port of 127.0.0.1 until `stop`."""

    def __init__(self, fake: FakeShopify) -> None:
        self.fake = fake
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((HOST, 0))
        self.port = int(self._socket.getsockname()[1])
        config = uvicorn.Config(
            fake.app, log_level="error", access_log=False, lifespan="off", loop="asyncio"
        )
        self._server = _Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="fake-shopify", daemon=True)

    @property
    def base_url(self) -> str:
        """Where the fake's Admin API answers."""
        return f"http://{HOST}:{self.port}"

    def start(self) -> str:
        """Start serving; returns the base URL once the fake accepts connections."""
        self._thread.start()
        if not self._ready.wait(START_SECONDS) or not self._server.started:
            raise RuntimeError("the fake Shopify did not start")
        return self.base_url

    def _main(self) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            started = asyncio.create_task(self._server.serve(sockets=[self._socket]))
            while not self._server.started and not started.done():
                await asyncio.sleep(0.01)
            self._ready.set()
            await started

        try:
            asyncio.run(serve())
        finally:
            self._ready.set()

    def call(self, function: Callable[[], T]) -> T:
        """Run `function` on the fake's loop and return its result."""

        async def run() -> T:
            return function()

        return self.submit(run()).result(timeout=START_SECONDS)

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule a coroutine on the fake's loop (a background task of the shop's side)."""
        if self._loop is None:
            work.close()
            raise RuntimeError("the fake Shopify is not running")
        return asyncio.run_coroutine_threadsafe(work, self._loop)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(START_SECONDS)
        self._socket.close()
