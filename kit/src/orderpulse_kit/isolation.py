"""What happens when a poll's work fails: no record may stop a consumer, and none is lost.

An infrastructure failure (the database or the broker unreachable, a lock held too long) is
transient: consumption pauses, longer each time in a row (up to `MAX_PAUSE`), and the poll is
read again. Any other failure belongs to a record: the poll is handled again one record at a
time, and a record that fails alone, for a reason that is not transient, is dead-lettered with
the reason while the rest of the poll takes effect. The handler is idempotent, so handling a
record again after a failed poll repeats nothing.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka.errors import KafkaError
from pydantic import ValidationError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

MAX_PAUSE = 30.0
"""Seconds: the longest pause between two attempts at a poll while the infrastructure fails."""


class Transient(Exception):
    """A failure that will pass by itself (another writer in the way): try the poll again."""


TRANSIENT: tuple[type[BaseException], ...] = (
    Transient,
    OperationalError,  # the database unreachable, or a lock held too long
    InterfaceError,
    DisconnectionError,
    KafkaError,
    ConnectionError,
    TimeoutError,
)


class Isolation:
    """Runs a poll's handler; when it fails, finds the records that cannot be handled."""

    def __init__(self, dead_letter: Callable[[Any, str], Awaitable[None]]) -> None:
        self._dead_letter = dead_letter
        self._failures_in_a_row = 0

    async def handle(
        self, received: Sequence[Any], handle: Callable[[list[Any]], Awaitable[None]]
    ) -> None:
        """`handle(received)`; on a record's failure, the others handled and it dead-lettered.

        Raises (after a pause) only for a transient failure: then the poll is read again.
        """
        try:
            await handle(list(received))
        except Exception as error:
            await self._unless_transient(error)
            log.warning(
                "a poll of %d events failed (%s); handling them one at a time",
                len(received),
                type(error).__name__,
            )
            for item in received:
                await self._alone(item, handle)
        self._failures_in_a_row = 0

    async def _alone(self, item: Any, handle: Callable[[list[Any]], Awaitable[None]]) -> None:
        try:
            await handle([item])
        except Exception as error:
            await self._unless_transient(error)
            record = item.record
            log.exception(
                "dead-lettering %s[%s]@%s: it cannot be handled",
                record.topic,
                record.partition,
                record.offset,
            )
            await self._dead_letter(record, unhandled(error))

    async def _unless_transient(self, error: Exception) -> None:
        """Pause and raise again when `error` is transient; return when it is a record's."""
        if not isinstance(error, TRANSIENT):
            return
        self._failures_in_a_row += 1
        pause = min(0.5 * 2 ** (self._failures_in_a_row - 1), MAX_PAUSE)
        log.warning(
            "a poll failed on the infrastructure (%s); reading it again in %.1f s",
            type(error).__name__,
            pause,
        )
        await asyncio.sleep(pause)
        raise error


def unhandled(error: BaseException) -> str:
    """The dead-letter reason of a record that failed with `error`: the error's class and
    message; a validation error's places, never the values (personal data lands in dead-letter
    headers otherwise)."""
    if isinstance(error, ValidationError):
        places = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in error.errors(include_url=False, include_context=False, include_input=False)
        )
        return f"could not be handled: ValidationError: {places}"[:1000]
    return f"could not be handled: {type(error).__name__}: {error}"[:1000]
