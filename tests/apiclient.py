"""The API in-process for tests: httpx over ASGITransport, with a key of every role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx
import uvicorn
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI

from stockpool.api.app import create_app
from stockpool.bootstrap import ApiSettings
from stockpool.services import access
from stockpool.services.context import Services

ROLES = ("admin", "operator", "viewer", "integration")


class Api:
    """A synchronous client of the in-process API, with one key per role."""

    def __init__(self, app: FastAPI, services: Services, portal: BlockingPortal) -> None:
        self.app = app
        self.services = services
        self.portal = portal
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        self.keys = {
            role: access.create_key(services, role, name=f"{role} key").secret for role in ROLES
        }

    def request(
        self, method: str, url: str, *, role: str | None = "admin", **kwargs: Any
    ) -> httpx.Response:
        """Send a request as a key of `role` (None: without a key)."""
        headers = dict(kwargs.pop("headers", {}) or {})
        if role is not None:
            headers.setdefault("Authorization", f"Bearer {self.keys[role]}")
        return self.portal.call(lambda: self.client.request(method, url, headers=headers, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


def make_api(services: Services, **settings: Any) -> Iterator[Api]:
    """An Api on `services` (background tasks off unless asked for)."""
    options = {"run_workers": False, "key_cache_seconds": 0.0, **settings}
    app = create_app(services, ApiSettings(**options))
    with ExitStack() as stack:
        portal = stack.enter_context(start_blocking_portal())
        client = Api(app, services, portal)
        stack.callback(lambda: portal.call(client.client.aclose))
        yield client


def problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    """Check that a response is the given problem; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == f"https://stockpool.dev/problems/{kind}"
    assert body["status"] == status
    return body


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run `app` with uvicorn on a free port of 127.0.0.1; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
