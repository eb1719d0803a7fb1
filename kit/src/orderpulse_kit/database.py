"""The SQL engine every service uses: SQLite under a data directory by default (a laptop, the demo,
tests), PostgreSQL in production.
"""

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

import aiosqlite
import sqlalchemy as sa
from pydantic_core import from_json, to_json
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def connect(url: str) -> AsyncEngine:
    """An engine for `url`; a SQLite file's directory is created so first runs just work."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(
            url,
            pool_pre_ping=True,
            pool_recycle=1800,
            json_serializer=_to_json,
            json_deserializer=from_json,
        )
    database = parsed.database or ":memory:"
    # One connection, its statements run in the loop (`_InLoop`): the process's transactions
    # take turns for it, so none ever waits on SQLite's lock for another of the process. (A
    # database in memory has one connection anyway: SQLAlchemy's StaticPool.)
    one: dict[str, Any] = {}
    if database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        one = {"pool_size": 1, "max_overflow": 0}
    engine = create_async_engine(
        url,
        json_serializer=_to_json,
        json_deserializer=from_json,
        async_creator=partial(_InLoop.open, database, uri=parsed.query.get("uri") == "true"),
        **one,
    )
    # SQLite writers must queue for the lock, not fail. The sqlite3 driver's own transaction
    # handling would defeat that, so SQLAlchemy begins them (the recipe from SQLAlchemy's SQLite
    # dialect documentation), IMMEDIATE to take the write lock up front, waiting up to
    # `BUSY_SECONDS` for it (another connection's: a command line tool, another engine).
    event.listen(engine.sync_engine, "connect", _driver_autocommit)
    event.listen(engine.sync_engine, "begin", _begin_immediate)
    return engine


class _InLoop(aiosqlite.Connection):
    """aiosqlite's connection with its statements run in the event loop's thread.

    aiosqlite hands each statement to a thread of its own and wakes the loop with the result:
    a statement then waits for the loop's turn, which a busy process (the notifier's sends, a
    tracker's poll) makes tens of milliseconds, and a transaction has several. SQLite's
    statements here take microseconds (no fsync per commit: WAL, synchronous=NORMAL): run in
    the loop they cost less than the turn. In the pipeline bench at 500 events/s the tracker's
    latency (event → request) fell from p99 740 to 290 ms with it.

    The thread stays for opening and closing. A statement that finds the write lock taken
    (by another connection: a command line tool, another process, a second engine on the file)
    waits for it here, between turns of the loop, not in SQLite's busy handler: that would stop
    the loop, and with it a holder of the lock in this process (two engines on one file in one
    process never got it: "database is locked" after the whole timeout).
    """

    @classmethod
    async def open(cls, database: str, *, uri: bool) -> aiosqlite.Connection:
        connector: Callable[[], sqlite3.Connection] = partial(
            sqlite3.connect, database, uri=uri, check_same_thread=False
        )
        return await cls(connector, iter_chunk_size=64)

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        deadline, pause = time.monotonic() + BUSY_SECONDS, 0.001
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                # Not run: it may run again. (Extended codes: BUSY_RECOVERY, BUSY_SNAPSHOT.)
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    raise
                if time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.05)


BUSY_SECONDS = 5.0
"""How long a statement waits for another connection's write lock; then it fails, and the poll
with it as transient (read again after a pause): well within Kafka's session."""


def _to_json(value: Any) -> str:
    """JSON columns are written (and read, `from_json`) by pydantic's serializer: several times
    faster than the `json` module, which every poll's states and outbox rows went through."""
    return to_json(value).decode()


def _driver_autocommit(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # WAL: readers do not block the writer; NORMAL: durable across a crash of the process (not
    # of the machine), without an fsync per transaction.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # No busy handler: `_InLoop` waits for the lock without stopping the loop.
    cursor.execute("PRAGMA busy_timeout=0")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def among(
    conn: AsyncConnection,
    first: sa.ColumnElement[str],
    second: sa.ColumnElement[str],
    pairs: Iterable[tuple[str, str]],
    *,
    exact: bool = False,
) -> sa.ColumnElement[bool]:
    """Rows whose (first, second) is one of `pairs` (a shop and an order or event id), found
    through the primary key's index; on SQLite a superset, which the caller filters, unless
    `exact` (for a write, where another condition must narrow the rows through an index).

    On PostgreSQL, `(first, second) IN (SELECT * FROM unnest($1, $2))`: one statement whatever the
    number of pairs, joined to the index. A list of row values took seconds to plan, and
    `first = a AND second = ANY($2)` made a table without statistics yet (a new deployment's
    first hour) scan the shop's rows one by one against the whole array. On SQLite, a list of
    row values scans the table: `first IN (…) AND second IN (…)` searches the index.
    """
    listed = list(pairs)
    if conn.dialect.name != "postgresql" and exact:
        return sa.tuple_(first, second).in_(listed)
    if conn.dialect.name != "postgresql":
        return sa.and_(first.in_({a for a, _ in listed}), second.in_({b for _, b in listed}))
    firsts = sa.bindparam(None, [a for a, _ in listed], type_=_TEXTS)
    seconds = sa.bindparam(None, [b for _, b in listed], type_=_TEXTS)
    keys = sa.select(sa.func.unnest(firsts, seconds).table_valued("a", "b").render_derived())
    return sa.tuple_(first, second).in_(keys)


_TEXTS = postgresql.ARRAY(sa.String)


def dialect_insert(conn: AsyncConnection, table: sa.Table) -> Any:
    """An INSERT that can say ON CONFLICT, in the connection's dialect."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)
