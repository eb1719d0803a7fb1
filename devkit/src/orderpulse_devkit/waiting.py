"""Waiting on service processes in tests: for a condition, or for an HTTP answer, failing early
with the services' logs when one died, and with them too when time runs out."""

import asyncio
import time
from collections.abc import Callable

import aiohttp

from orderpulse_devkit.services import ServiceProcess


async def eventually(
    check: Callable[[], bool], services: dict[str, ServiceProcess], within: float = 60
) -> None:
    """Wait up to `within` seconds for `check`."""
    deadline = time.monotonic() + within
    while not check():
        for name, service in services.items():
            assert service.running, f"{name} died:\n{service.log()}"
        assert time.monotonic() < deadline, "timed out; logs:\n" + "\n".join(
            f"== {name}\n{s.log(30)}" for name, s in services.items()
        )
        await asyncio.sleep(0.1)


async def answers(service: ServiceProcess, path: str, wanted: int, within: float = 60) -> None:
    """Wait until `path` answers `wanted`."""
    deadline = time.monotonic() + within
    while (got := await status(service, path)) != wanted:
        assert service.running, f"{service.name} died:\n{service.log()}"
        assert time.monotonic() < deadline, f"{service.name}: {path} {got}\n{service.log()}"
        await asyncio.sleep(0.2)


async def status(service: ServiceProcess, path: str) -> int | None:
    """The status `path` answers with, None while nothing listens."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url(service, path)) as response:
            return response.status
    except aiohttp.ClientConnectionError:
        return None


def url(service: ServiceProcess, path: str) -> str:
    """`path` on the service's HTTP port."""
    port = next(value for key, value in service.env.items() if key.endswith("_HTTP_PORT"))
    return f"http://127.0.0.1:{port}{path}"
