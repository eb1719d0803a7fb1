import asyncio
import threading
from pathlib import Path

import sqlalchemy as sa

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
