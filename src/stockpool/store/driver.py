"""Statements run straight on the database driver, for the few hottest writes.

SQLAlchemy's per-statement machinery costs more than SQLite's own work for a one-row
write; the ledger's hottest statements (level change, movement insert) therefore run on the
driver cursor of the same connection, inside the same transaction. Their SQL is written
once with `:name` parameters, which sqlite3 takes as they are and psycopg as `%(name)s`,
or with `?` positional parameters (psycopg: `%s`) where a bulk write binds plain tuples,
which both drivers bind faster than one dict per row.

A list of values is ONE parameter: `IN (SELECT value FROM json_each(:skus))` on SQLite,
`= ANY(:skus)` on PostgreSQL (`list_statement` writes both from one template), bound with
`bind_list`. The statement text stays the same whatever the length, so neither driver
prepares it again, and no list runs into SQLite's limit on parameters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from stockpool.store.types import UtcDateTime

_NAMED = re.compile(r"(?<![:\w]):(\w+)")


PIPELINE = "stockpool.pipeline"  # Connection.info key: the psycopg pipeline running, if any


def sync_pipeline(connection: Connection) -> None:
    """Inside a pipeline, wait for the answers of every statement sent so far (a statement's
    rows and row count are known only then); nothing to do outside one."""
    pipeline = connection.info.get(PIPELINE)
    if pipeline is not None:
        pipeline.sync()


def answer_soon(connection: Connection) -> None:
    """Inside a pipeline, have the server send the answers of the statements sent so far as
    soon as it has them, instead of with the answers of those sent later (nothing to do
    outside one)."""
    if connection.info.get(PIPELINE) is not None:
        pgconn = connection.connection.driver_connection.pgconn  # type: ignore[union-attr]
        pgconn.send_flush_request()
        pgconn.flush()


class DriverStatement:
    """One SQL statement, prepared for both drivers."""

    def __init__(self, sql: str, *, postgresql: str | None = None) -> None:
        self.sqlite = sql
        self.postgresql = _NAMED.sub(r"%(\1)s", postgresql or sql).replace("?", "%s")

    def run(
        self, connection: Connection, params: Mapping[str, Any] | Sequence[Any]
    ) -> tuple[Any, ...] | None:
        """Execute in the connection's transaction; return the first row returned, if any."""
        dialect = connection.dialect.name
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.postgresql if dialect == "postgresql" else self.sqlite, params)
            sync_pipeline(connection)  # else, in a pipeline, no row would be seen yet
            row = cursor.fetchone() if cursor.description else None
        finally:
            cursor.close()
        return None if row is None else tuple(row)

    def write(self, connection: Connection, params: Mapping[str, Any]) -> None:
        """Execute a statement whose answer nobody reads (inside a pipeline, its errors come
        with the pipeline's next round trip)."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._sql(connection), params)
        finally:
            cursor.close()

    def send(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Execute, and return the driver cursor unread: inside a pipeline (see
        `SqlUnitOfWork.pipeline`) its rows arrive with the pipeline's next round trip. The
        caller fetches them and closes the cursor."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(self._sql(connection), params)
        return cursor

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute a query and return every row (for bulk reads)."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self._sql(connection), params)
            found: list[tuple[Any, ...]] = cursor.fetchall()  # tuples on both drivers
            return found
        finally:
            cursor.close()

    def many(
        self, connection: Connection, params: Sequence[Mapping[str, Any]] | Sequence[Sequence[Any]]
    ) -> None:
        """Execute once per parameter set (for bulk writes)."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.executemany(self._sql(connection), params)
        finally:
            cursor.close()

    def _sql(self, connection: Connection) -> str:
        return self.postgresql if connection.dialect.name == "postgresql" else self.sqlite


_IN_LIST = re.compile(r"IN LIST\(:(\w+)\)")


def list_statement(sql: str) -> DriverStatement:
    """A statement whose `IN LIST(:name)` takes a whole list as one parameter (see the
    module); bind the list with `bind_list`."""
    return DriverStatement(
        _IN_LIST.sub(r"IN (SELECT value FROM json_each(:\1))", sql),
        postgresql=_IN_LIST.sub(r"= ANY(:\1)", sql),
    )


def bind_list(connection: Connection, values: Collection[str | int]) -> Any:
    """A list of values as one parameter of a `list_statement` on this connection."""
    if connection.dialect.name == "postgresql":
        return list(values)
    return json.dumps(list(values))


_datetime_binders: dict[str, Callable[[Any], Any]] = {}


def bind_datetime(connection: Connection, value: datetime) -> Any:
    """A datetime as the column type stores it on this connection's database."""
    dialect = connection.dialect
    binder = _datetime_binders.get(dialect.name)
    if binder is None:
        processor = UtcDateTime().bind_processor(dialect)
        binder = processor if processor is not None else (lambda v: v)
        if dialect.name == "sqlite":  # the text sqlite3 would write, made once, not per row
            naive = binder
            binder = lambda v: naive(v).isoformat(" ")  # noqa: E731
        _datetime_binders[dialect.name] = binder
    return binder(value)


class BulkInsert:
    """Many rows into one table in one go: `executemany` on SQLite (no round trips to
    save), and on PostgreSQL ONE `INSERT ... SELECT FROM unnest(arrays)`, a column per
    array, in the order given (ids are assigned in that order), the arrays sent in binary
    (no escaping of text). psycopg would otherwise send each row as a statement of its own.

    `columns` are (name, PostgreSQL type); a `json` column travels as text and is cast.
    `suffix` follows the insert on both databases (an ON CONFLICT clause, say).
    """

    def __init__(self, table: str, columns: Sequence[tuple[str, str]], *, suffix: str = ""):
        names = ", ".join(name for name, _ in columns)
        marks = ", ".join("?" for _ in columns)
        self.sqlite = f"INSERT INTO {table} ({names}) VALUES ({marks}) {suffix}".strip()
        arrays = ", ".join(
            f"CAST(%b AS {'text' if kind == 'json' else kind}[])" for _, kind in columns
        )
        picked = ", ".join(
            f"CAST(v.{name} AS json)" if kind == "json" else f"v.{name}" for name, kind in columns
        )
        self.postgresql = (
            f"INSERT INTO {table} ({names}) SELECT {picked} FROM unnest({arrays}) "
            f"WITH ORDINALITY AS v({names}, ordinal) ORDER BY v.ordinal {suffix}"
        ).strip()

    def insert(self, connection: Connection, rows: Sequence[Sequence[Any]]) -> None:
        """Insert `rows` (tuples in the order of the columns) in this transaction."""
        if not rows:
            return
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            if connection.dialect.name == "postgresql":
                cursor.execute(
                    self.postgresql, [list(column) for column in zip(*rows, strict=True)]
                )
            else:
                cursor.executemany(self.sqlite, rows)
        finally:
            cursor.close()


class WriteChecks:
    """Row-count checks of a unit of work's writes: made at once, or, while a pipeline sends
    statements without waiting for their answers, when it ends (see
    `SqlUnitOfWork.pipeline`)."""

    def __init__(self) -> None:
        self.deferring = False
        self._pending: list[Callable[[], None]] = []

    def add(self, check: Callable[[], None]) -> None:
        """Make `check` now, or at the end of the pipeline running."""
        if self.deferring:
            self._pending.append(check)
        else:
            check()

    def run(self) -> None:
        """Make every deferred check, in the order of their writes (the first failing one
        raises; the unit of work then rolls back)."""
        while self._pending:
            self._pending.pop(0)()
