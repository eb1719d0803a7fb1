"""A service's periodic chores (due timers, reminders, deferred texts, data retention, consumer
lag): each runs on its own task every few seconds while the app runs, from after start-up (the
broker is connected, so a chore may publish) until shutdown begins. A failed round is logged and
tried again next time: the work is in the database, not in the task.

"""

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from faststream.asgi import AsgiFastStream

log = logging.getLogger(__name__)


def every(
    app: AsgiFastStream, seconds: float, chore: Callable[[], Awaitable[object]], what: str
) -> None:
    """Run `chore` every `seconds` while `app` runs; `what` names it in the log."""
    task: asyncio.Task[None] | None = None

    async def run() -> None:
        while True:
            try:
                await chore()
            except Exception:
                log.exception("%s failed; trying again in %s s", what, seconds)
            await asyncio.sleep(seconds)

    async def start() -> None:
        nonlocal task
        task = asyncio.create_task(run())

    async def stop() -> None:
        if task:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.after_startup(start)
    app.on_shutdown(stop)
