import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.database import connect


async def test_sqlite_statements_run_in_the_loops_thread(tmp_path: Path) -> None:
    """Not in a thread of aiosqlite's (its private `_execute`, which `connect` replaces)."""
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    threads: list[int] = []
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            raw.driver_connection._conn.create_function(  # type: ignore[union-attr]
                "thread", 0, lambda: threads.append(threading.get_ident()) or 1
            )
            await conn.execute(sa.text("SELECT thread()"))
    finally:
        await engine.dispose()
    assert threads == [threading.get_ident()]


async def test_sqlite_transactions_of_one_process_take_turns_on_one_connection(
    tmp_path: Path,
) -> None:
    """A second transaction waits for the first's connection, never for SQLite's lock (which
    would stop the loop, `_InLoop`)."""
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    order: list[str] = []
    used: set[int] = set()

    async def write(name: str, hold: float) -> None:
        async with engine.begin() as conn:
            used.add(id((await conn.get_raw_connection()).driver_connection))
            order.append(f"{name} began")
            await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x)"))
            await asyncio.sleep(hold)
            order.append(f"{name} ends")

    try:
        await asyncio.gather(write("first", 0.2), write("second", 0))
    finally:
        await engine.dispose()
    assert order == ["first began", "first ends", "second began", "second ends"]
    assert len(used) == 1


async def test_a_statement_waits_for_another_engines_lock_without_stopping_the_loop(
    tmp_path: Path,
) -> None:
    """Two engines on one file in one process (a test's second app, a tool's engine): the
    second's transaction waits while the first, holding the write lock, goes on and commits."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'service.db'}"
    first, second = connect(url), connect(url)
    order: list[str] = []
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async def write(engine: AsyncEngine, name: str, hold: float) -> None:
        async with engine.begin() as conn:
            order.append(f"{name} began")
            await conn.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x)"))
            await conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": name})
            await asyncio.sleep(hold)
        order.append(f"{name} committed")

    ticker = asyncio.create_task(tick())
    try:
        async with first.begin() as conn:  # created before, so that the lock is all they share
            await conn.execute(sa.text("CREATE TABLE t (x)"))
        holder = asyncio.create_task(write(first, "first", 0.3))
        await asyncio.sleep(0.05)  # the first holds the lock
        started = asyncio.get_running_loop().time()
        await asyncio.gather(write(second, "second", 0), holder)
        waited = asyncio.get_running_loop().time() - started
        async with second.connect() as conn:
            rows = (await conn.execute(sa.text("SELECT x FROM t"))).scalars().all()
    finally:
        ticker.cancel()
        await first.dispose()
        await second.dispose()
    assert order == ["first began", "first committed", "second began", "second committed"]
    assert rows == ["first", "second"]
    assert waited < 1 and ticks >= 20  # the loop went on while the second waited
