"""`make run`'s entry point on a fresh data directory: demo, admin key, API; then reuse."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

STOCKPOOL = Path(sys.executable).parent / "stockpool"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _running(data_dir: Path, port: int, *extra: str) -> Iterator[list[str]]:
    """Start `stockpool demo run` as `make run` does; yield its first lines; stop it."""
    env = {k: v for k, v in os.environ.items() if k != "STOCKPOOL_DATABASE_URL"}
    env["STOCKPOOL_DATA_DIR"] = str(data_dir)
    process = subprocess.Popen(
        [
            str(STOCKPOOL),
            "demo",
            "run",
            "--port",
            str(port),
            "--items",
            "120",
            "--days",
            "60",
            *extra,
        ],  # fmt: skip
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("the sync dispatcher runs"):
            line = process.stdout.readline()
            assert line, f"the server stopped early: {lines}"
            lines.append(line.rstrip("\n"))
        _wait_healthy(port)
        yield lines
    finally:
        process.terminate()
        process.wait(timeout=20)
        if process.stdout is not None:
            process.stdout.close()


def _wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the API did not answer /health within 30 s")


def _key_and_sku(lines: list[str]) -> tuple[str, str]:
    key = next(x for x in lines if x.startswith("admin API key")).rsplit(": ", 1)[1]
    sku = next(x for x in lines if x.startswith("try: curl")).split("/v1/items/")[1].split("/")[0]
    return key, sku


def test_first_run_generates_the_demo_and_serves_it_with_an_admin_key(tmp_path: Path) -> None:
    port = _free_port()
    with _running(tmp_path, port) as lines:
        key, sku = _key_and_sku(lines)
        assert lines[0] == "generating the demo brand (120 items, 60 days of history)"
        assert lines[-1] == (
            "the sync dispatcher runs beside it (connect a channel: `stockpool sync connect`)"
        )
        assert lines[2] == f"stockpool is running at http://127.0.0.1:{port} (API docs at " + (
            f"http://127.0.0.1:{port}/docs)"
        )
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
        stock = httpx.get(
            f"http://127.0.0.1:{port}/v1/items/{sku}/stock",
            headers={"Authorization": f"Bearer {key}"},
            timeout=5,
        )
        refused = httpx.get(f"http://127.0.0.1:{port}/v1/items/{sku}/stock", timeout=5)
    assert health.json() == {"status": "ok"}
    assert stock.status_code == 200
    levels = stock.json()
    assert "WH" in [level["location"] for level in levels]
    assert all(level["available"] >= 0 for level in levels)
    assert refused.status_code == 401
    key_file = tmp_path / "admin-key"
    assert key_file.read_text(encoding="utf-8") == key + "\n"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_second_run_reuses_the_data_and_the_key(tmp_path: Path) -> None:
    with _running(tmp_path, _free_port()) as first:
        key, _ = _key_and_sku(first)
    with _running(tmp_path, _free_port()) as second:
        again, _ = _key_and_sku(second)
    assert second[0] == f"reusing the data in {tmp_path}"
    assert again == key


def _shop_orders(port: int, key: str) -> list[dict[str, object]]:
    found = httpx.get(
        f"http://127.0.0.1:{port}/v1/orders",
        params={"channel": "shopify", "limit": 50},
        headers={"Authorization": f"Bearer {key}"},
        timeout=5,
    )
    assert found.status_code == 200
    orders: list[dict[str, object]] = found.json()["data"]
    return [o for o in orders if str(o["external_id"]).startswith("gid://shopify/Order/")]


def test_with_a_fake_shopify_its_customers_orders_arrive_through_its_webhooks(
    tmp_path: Path,
) -> None:
    port = _free_port()
    with _running(tmp_path, port, "--fake-shopify") as lines:
        key, _ = _key_and_sku(lines)
        shop = next(x for x in lines if x.startswith("a fake Shopify serves on http://127.0.0.1:"))
        deadline = time.monotonic() + 30
        while not (arrived := _shop_orders(port, key)) and time.monotonic() < deadline:
            time.sleep(0.5)
    assert f"post their orders to http://127.0.0.1:{port}/webhooks/shopify" in shop
    assert arrived, "no order of the fake Shopify's customers arrived within 30 s"
    assert {o["kind"] for o in arrived} == {"ingest"}
