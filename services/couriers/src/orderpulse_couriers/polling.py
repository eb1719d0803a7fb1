"""When to ask a carrier that does not push (Packeta) about a parcel again. Pure: no I/O.

Soon after news, less and less often while nothing changes (the wait doubles, up to a ceiling),
never after the parcel's final status, and not any more once it has been followed for longer
than any parcel travels. The schedule lives in the database, so a restart changes nothing.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from orderpulse_couriers.parcels import Followed


class PollFailed(Exception):
    """A poll that learnt nothing; its message never quotes the answer or the password."""


class CarrierUnavailable(PollFailed):
    """Try again later: the network, a timeout, an HTTP error (429 and 5xx too), an answer that
    is not the carrier's format."""


class CarrierRefused(PollFailed):
    """The carrier refused the question (a wrong password, a parcel it does not know): asked
    again later all the same, as a new password or a late registration may put it right."""

    def __init__(self, fault: str, message: str = "") -> None:
        super().__init__(message or fault)
        self.fault = fault
        """The carrier's name of the fault, e.g. Packeta's "IncorrectApiPasswordFault"."""


@dataclass(frozen=True, slots=True)
class Due:
    """A parcel whose carrier is to be asked about it now, with what its schedule needs."""

    parcel: Followed
    unchanged_polls: int
    followed_at: datetime


@dataclass(frozen=True, slots=True)
class Next:
    """When to ask about a parcel again (None: never), after how many polls that learnt nothing."""

    key: tuple[str, str]  # (carrier, tracking number)
    poll_at: datetime | None
    unchanged_polls: int


@dataclass(frozen=True, slots=True)
class Schedule:
    """How often a polled carrier is asked about each parcel."""

    every: timedelta
    """After news (and at first): the carrier's next status may come within hours."""
    at_most: timedelta
    """The longest wait between two polls of a parcel that is still travelling."""
    give_up_after: timedelta
    """Since the parcel was followed: no parcel travels this long; a wrong tracking number
    must not be polled for ever."""

    def next(self, due: Due, news: Followed | None, now: datetime) -> Next:
        """When to poll `due` again after a poll at `now` that published about `news` (the
        parcel as saved), or nothing (None)."""
        parcel = news or due.parcel
        if parcel.finished or now - due.followed_at >= self.give_up_after:
            return Next(parcel.key, None, 0)
        if news is not None:
            return Next(parcel.key, now + self.every, 0)
        unchanged = due.unchanged_polls + 1
        wait = self.every * 2 ** min(unchanged, 20)  # 2**20 × every is beyond any ceiling
        return Next(parcel.key, now + min(wait, self.at_most), unchanged)
