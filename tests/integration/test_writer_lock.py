"""The SQLite writer lock holds across processes, and a dead holder never keeps it."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from stockpool.store.engine import WriterLock

HOLDER = """
import sys
from pathlib import Path
from stockpool.store.engine import WriterLock
lock = WriterLock(Path(sys.argv[1]))
assert lock.acquire(timeout=10)
print("held", flush=True)
sys.stdin.readline()  # hold until told (or killed)
lock.release()
"""


def _holder(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "held"
    return child


def _taker(lock: WriterLock) -> tuple[threading.Thread, threading.Event]:
    taken = threading.Event()

    def take() -> None:
        if lock.acquire(timeout=30):
            taken.set()
            lock.release()

    thread = threading.Thread(target=take)
    thread.start()
    return thread, taken


def test_a_writer_of_another_process_waits_until_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "store.db.writer"
    child = _holder(path)
    thread, taken = _taker(WriterLock(path))
    assert not taken.wait(0.5)  # the other process holds it
    assert child.stdin is not None
    child.stdin.write("\n")
    child.stdin.flush()
    assert taken.wait(30)
    thread.join()
    assert child.wait(30) == 0
    _close(child)


def test_a_holder_killed_mid_transaction_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "store.db.writer"
    child = _holder(path)
    thread, taken = _taker(WriterLock(path))
    assert not taken.wait(0.5)
    child.kill()
    child.wait(30)
    assert taken.wait(30)
    thread.join()
    _close(child)


def _close(child: subprocess.Popen[str]) -> None:
    for stream in (child.stdin, child.stdout):
        if stream is not None:
            stream.close()
