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


def test_a_turn_holds_the_lock_across_transactions_of_its_thread(tmp_path: Path) -> None:
    from sqlalchemy import text

    from stockpool.store.engine import create_store_engine, parse_database_url, writer_turn

    engine = create_store_engine(parse_database_url(f"sqlite:///{tmp_path / 'turn.db'}"))
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    insert = text("INSERT INTO t VALUES (1)")
    other = WriterLock(tmp_path / "turn.db.writer")  # as another process would take it
    try:
        with writer_turn(engine):
            with engine.begin() as connection:
                connection.execute(insert)
            waiting, taken = _taker(other)
            assert not taken.wait(0.2)  # the transaction ended, the turn did not
            with engine.begin() as connection:
                connection.execute(insert)
            with writer_turn(engine), engine.begin() as connection:  # nested: the same turn
                connection.execute(insert)
            assert not taken.is_set()
        assert taken.wait(10)  # let go when the turn ends
        waiting.join(10)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 3
    finally:
        engine.dispose()
