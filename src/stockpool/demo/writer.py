"""Bulk writes of the demo: hundreds of thousands of ledger rows in a few statements.

The order and ledger tables take their rows straight on the driver (executemany on
SQLite, COPY on PostgreSQL), with ids assigned here so that lines can name their orders;
the smaller catalog tables go through SQLAlchemy Core. Everything happens in the caller's
transaction: the demo is written whole or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, Table, func, select, text

from stockpool.demo.calendar import Ints

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def is_postgres(connection: Connection) -> bool:
    """Whether the connection is to PostgreSQL (else SQLite)."""
    return connection.dialect.name == "postgresql"


def stamps(connection: Connection, seconds: Ints) -> list[Any]:
    """Seconds since 1970 (UTC) as the database's datetime columns store them."""
    if is_postgres(connection):
        return [datetime.fromtimestamp(int(s), UTC) for s in seconds]
    text_values = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [f"{v[:10]} {v[11:]}.000000" for v in text_values.tolist()]


def stamp(connection: Connection, when: datetime) -> Any:
    """One datetime as the database stores it (see `stamps`)."""
    when = when.astimezone(UTC)
    if is_postgres(connection):
        return when
    return when.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


def next_id(connection: Connection, table: Table) -> int:
    """The first free id of a table (the demo writes into an empty store)."""
    return int(connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def copy_rows(
    connection: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows (tuples in `columns` order) on the driver."""
    if not rows:
        return
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if is_postgres(connection):
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def reset_sequence(connection: Connection, table: str) -> None:
    """After rows with explicit ids, let PostgreSQL's sequence continue after them."""
    if is_postgres(connection):
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )


def core_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows through SQLAlchemy Core, in chunks."""
    for start in range(0, len(rows), 5000):
        connection.execute(table.insert(), rows[start : start + 5000])


def id_map(connection: Connection, table: Table, key: str) -> dict[str, int]:
    """`key` -> id of every row of a table."""
    return {str(k): int(i) for k, i in connection.execute(select(table.c[key], table.c.id))}
