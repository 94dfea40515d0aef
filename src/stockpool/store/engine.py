"""Engines for SQLite (WAL, the embedded default) and PostgreSQL (psycopg 3).

SQLite transactions start with BEGIN IMMEDIATE so that writers queue on the database lock
instead of failing when a read lock would have to be upgraded; `synchronous=FULL` makes a
commit durable before it returns (stock is money).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from stockpool.domain.errors import InvalidInput, StockpoolError
from stockpool.store.driver import sync_pipeline

try:
    import fcntl
except ImportError:  # not POSIX: processes queue in SQLite's busy handler instead
    fcntl = None  # type: ignore[assignment]

SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_CACHE_KIB = 65_536
SQLITE_CHECKPOINT_PAGES = 10_000
# Every SQLite connection of stockpool runs with these (benchmarks give their raw reference
# connections the same). synchronous=FULL: a commit is on disk before it returns. A page
# cache of 64 MiB (the default is 2 MiB): recomputes and imports touch hundreds of thousands
# of rows in one transaction. The write-ahead log is copied back into the database every
# 10,000 pages (40 MB) rather than every 1,000: busy pages (the best sellers' levels and
# listings, the ends of the order and event tables) are written in many transactions
# between two checkpoints, and each checkpoint copies them once.
SQLITE_PRAGMAS = (
    f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}",
    "journal_mode = WAL",
    "synchronous = FULL",
    "foreign_keys = ON",
    f"cache_size = -{SQLITE_CACHE_KIB}",
    f"wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}",
)
_HOLDS_WRITER = "stockpool.holds_writer_lock"


class DatabaseBusy(StockpoolError):
    """The database stayed locked by other work for longer than we wait."""


def parse_database_url(text: str) -> URL:
    """Parse and normalise a database URL, or say what is accepted."""
    hint = "use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise InvalidInput(f"malformed database URL {text!r}: {hint}") from None
    backend = url.get_backend_name()
    if backend == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise InvalidInput(f"SQLite needs a file path in the URL ({hint})")
        return url.set(drivername="sqlite")
    raise InvalidInput(f"unsupported database {backend!r}: {hint}")


class WriterLock:
    """One SQLite writer at a time: among this process's threads (a lock), and among
    processes (an exclusive `flock` on a file beside the database).

    Waiters are woken the moment the holder lets go. SQLite's own busy handler instead
    sleeps in growing steps (up to 100 ms) and turns contention into idle time; with this
    lock it only ever waits for programs that do not take it. The kernel drops the
    `flock` of a process that dies, so a crash never leaves the lock taken.
    """

    def __init__(self, path: Path) -> None:
        self._threads = threading.Lock()
        self._path = path
        self._fd: int | None = None
        self._pid = 0  # a forked child shares its parent's file description: reopen
        self._turns = threading.local()  # `hold` depth of each thread

    def held_here(self) -> bool:
        """Whether this thread holds the lock through `hold`."""
        return bool(getattr(self._turns, "depth", 0))

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock across several transactions of this thread (their BEGINs then
        neither take nor release it)."""
        if self.held_here():
            self._turns.depth += 1
            try:
                yield
            finally:
                self._turns.depth -= 1
            return
        if not self.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise DatabaseBusy("the database stayed locked by another transaction for 60 s")
        self._turns.depth = 1
        try:
            yield
        finally:
            self._turns.depth = 0
            self.release()

    def acquire(self, timeout: float) -> bool:
        """Take the lock; False if another thread of this process held it for `timeout`."""
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            if fcntl is not None:
                if self._fd is None or self._pid != os.getpid():
                    self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
                    self._pid = os.getpid()
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        """Let the next writer in."""
        try:
            if fcntl is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _configure_sqlite(engine: Engine, database: Path) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    writer = WriterLock(database.with_name(database.name + ".writer"))
    _writers[engine] = writer

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not writer.held_here():  # else the thread holds it across transactions
            if not writer.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise DatabaseBusy("the database stayed locked by another transaction for 60 s")
            connection.info[_HOLDS_WRITER] = True
        try:
            # Straight to the driver: this runs once per transaction, on the hot path.
            connection.connection.driver_connection.execute("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection)
            raise

    def _release(connection: Any) -> None:
        if connection.info.pop(_HOLDS_WRITER, False):
            writer.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


_writers: weakref.WeakKeyDictionary[Engine, WriterLock] = weakref.WeakKeyDictionary()


def check_references_at_commit(connection: Connection) -> None:
    """For the rest of this transaction, check references when it commits rather than
    statement by statement: for a bulk load whose rows come in an order of their own."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET CONSTRAINTS ALL DEFERRED")
    else:
        connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")


def writer_turn(engine: Engine) -> AbstractContextManager[None]:
    """Hold the engine's single writer turn across several transactions of this thread:
    SQLite's writer lock taken once, before the work is even chosen (a no-op on
    PostgreSQL, where writers do not queue for the whole database)."""
    writer = _writers.get(engine)
    return nullcontext() if writer is None else writer.hold()


def _answered_in_pipeline(connection: Any, *_: Any) -> None:
    """A statement SQLAlchemy runs inside a pipeline (`SqlUnitOfWork.pipeline`) is answered
    before SQLAlchemy looks at its result: it would otherwise see no rows."""
    sync_pipeline(connection)


def create_store_engine(url: URL, *, pool_size: int = 8) -> Engine:
    """Build the engine for a parsed URL (see `parse_database_url`)."""
    try:
        if url.get_backend_name() == "sqlite":
            Path(url.database or "").parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=64,
                # Connection.close() already ends any open transaction; a second rollback
                # on return to the pool would only cost time on every unit of work.
                pool_reset_on_return=None,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            )
            _configure_sqlite(engine, Path(url.database or ""))
            return engine
        # No pre-ping: it would cost a round trip on every unit of work. A connection that
        # died with its server is invalidated by SQLAlchemy on first use, and that one unit
        # of work fails and can be retried.
        engine = create_engine(url, pool_size=pool_size, max_overflow=64)
        event.listen(engine, "after_cursor_execute", _answered_in_pipeline)
        return engine
    except (ArgumentError, NoSuchModuleError) as exc:
        raise InvalidInput(f"cannot use database URL: {exc}") from None
