"""The API over real HTTP on 127.0.0.1: keys from the CLI, live events, outgoing webhooks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from stockpool.api.app import create_app
from stockpool.bootstrap import ApiSettings, Settings, build_services
from stockpool.cli.main import app as cli
from stockpool.domain.events import signature_matches
from tests.apiclient import serving

SECRET = "receiver-secret-0123"
runner = CliRunner()


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver on loopback that fails its first delivery."""

    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(500 if len(self.received) == 1 else 204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        del format, args


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    db = f"sqlite:///{tmp_path / 'live.db'}"
    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    made = runner.invoke(cli, ["--db", db, "keys", "create", "--role", "admin", "--json"])
    assert made.exit_code == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    services = build_services(Settings(database_url=db, data_dir=tmp_path))
    settings = ApiSettings(
        poll_seconds=0.05,
        webhook_backoff_seconds=0.05,
        webhook_timeout_seconds=5,
        key_cache_seconds=0.0,
    )
    with serving(create_app(services, settings)) as base:
        yield base, key, db
    services.uow.engine.dispose()  # type: ignore[attr-defined]


def test_keys_are_created_listed_and_revoked_from_the_command_line(
    live: tuple[str, str, str],
) -> None:
    base, key, db = live
    listed = json.loads(runner.invoke(cli, ["--db", db, "keys", "list", "--json"]).stdout)
    assert [(k["id"], k["role"], k["revoked_at"]) for k in listed] == [(1, "admin", None)]
    auth = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{base}/v1/items", headers=auth).status_code == 200
    assert runner.invoke(cli, ["--db", db, "keys", "revoke", "1"]).exit_code == 0
    refused = httpx.get(f"{base}/v1/items", headers=auth)
    assert refused.status_code == 401
    assert httpx.get(f"{base}/health").json() == {"status": "ok"}


def test_live_events_stream_and_outgoing_webhooks_are_signed_and_retried(
    live: tuple[str, str, str], receiver: str
) -> None:
    base, key, _ = live
    auth = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=auth, timeout=10) as client:
        hook = {"url": receiver, "event_types": ["stock.changed"], "secret": SECRET}
        hook_id = client.post("/v1/webhooks", json=hook).json()["id"]
        client.post("/v1/locations", json={"code": "WH1", "name": "Main", "kind": "warehouse"})
        client.post("/v1/items", json={"sku": "TEE-M", "title": "Tee"})
        client.post("/v1/items", json={"sku": "CAP", "title": "Cap"})
        stream_headers = {"Accept": "text/event-stream"}
        with client.stream(
            "GET", "/v1/events?item=TEE-M&after=0", headers=stream_headers
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            client.post("/v1/stock/receive", json={"sku": "CAP", "location": "WH1", "quantity": 1})
            client.post(
                "/v1/stock/receive", json={"sku": "TEE-M", "location": "WH1", "quantity": 3}
            )
            frame = _first_event(stream.iter_lines())
        assert frame["event"] == "stock.changed"
        assert json.loads(frame["data"])["item"] == "TEE-M"
        deliveries = _wait_for(
            lambda: client.get(f"/v1/webhooks/{hook_id}/deliveries").json()["data"],
            lambda rows: len(rows) == 2 and all(d["status"] == "delivered" for d in rows),
        )
    assert sorted(d["attempts"] for d in deliveries) == [1, 2]
    assert len(Receiver.received) == 3
    for headers, body in Receiver.received:
        assert signature_matches(SECRET, body, headers["X-Stockpool-Signature"])
        assert headers["X-Stockpool-Event"] == "stock.changed"


def _first_event(lines: Iterator[str]) -> dict[str, str]:
    frame: dict[str, str] = {}
    for line in lines:
        if not line:
            if "event" in frame:
                return frame
            frame = {}
            continue
        name, _, value = line.partition(": ")
        frame[name] = value
    raise AssertionError("the stream ended")


def _wait_for(read: Any, done: Any, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if done(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)
