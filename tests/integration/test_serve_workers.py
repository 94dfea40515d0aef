"""`stockpool serve --workers N`: worker processes on SO_REUSEPORT sockets, watched."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from stockpool.cli.serve import _bound

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return {int(p) for p in found.stdout.split()}


def _workers(pid: int) -> set[int]:
    return {
        p
        for p in _children(pid)
        if b"resource_tracker" not in Path(f"/proc/{p}/cmdline").read_bytes()
    }


def _wait_for(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_worker_sockets_are_tcp_and_share_their_port() -> None:
    port = _free_port()
    first, second = _bound("127.0.0.1", port), _bound("127.0.0.1", port)
    try:
        assert first.proto == socket.IPPROTO_TCP  # asyncio then sets TCP_NODELAY
        assert first.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) == 1
        assert second.getsockname() == first.getsockname()
    finally:
        first.close()
        second.close()


def test_workers_serve_and_one_that_dies_is_replaced(tmp_path: Path) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"sqlite:///{tmp_path / 'served.db'}"
    command = [sys.executable, "-c", "from stockpool.cli.main import run; run()"]
    subprocess.run([*command, "--db", url, "init"], check=True, capture_output=True)
    server = subprocess.Popen(
        [*command, "--db", url, "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, "STOCKPOOL_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(lambda: _healthy(base) and len(_workers(server.pid)) == 2)
        clients = [httpx.Client(base_url=base, timeout=5) for _ in range(8)]
        assert all(c.get("/health").status_code == 200 for c in clients)
        first = _workers(server.pid)
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        _wait_for(lambda: len(_workers(server.pid) - {victim}) == 2)
        _wait_for(lambda: _healthy(base))
        assert victim not in _workers(server.pid)
        for c in clients:
            c.close()
        last = _workers(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    assert server.returncode == 0, output
    assert "starting another" in output
    assert not any(Path(f"/proc/{pid}").exists() for pid in last)  # stopped with it
