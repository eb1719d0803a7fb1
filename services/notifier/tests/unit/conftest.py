"""Fixtures of the notifier's core tests: a SQLite database of their own, the example shop."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_notifier.shops import Shop


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}")
    yield engine
    await engine.dispose()


@pytest.fixture
def shop(shops: dict[str, Shop]) -> Shop:
    """The example shop, with quiet hours 21:00-08:00 and channels as configured."""
    return shops["kvetinac-cz"]
