"""When a polled carrier is asked about a parcel again: soon after news, less and less often
while nothing changes, never after the final status or once the parcel is too old."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.polling import Due, Next, Schedule
from orderpulse_couriers.reports import Milestone

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PARCEL = Followed(shop_id="s", order_id="o", carrier="packeta", tracking_number="Z1")
SCHEDULE = Schedule(
    every=timedelta(minutes=30), at_most=timedelta(hours=6), give_up_after=timedelta(days=60)
)


def due(unchanged: int = 0, followed: timedelta = timedelta(days=1)) -> Due:
    return Due(PARCEL, unchanged, NOW - followed)


def test_news_brings_the_next_poll_back_to_the_shortest_wait() -> None:
    moved = replace(PARCEL, last=Milestone.IN_TRANSIT)

    assert SCHEDULE.next(due(unchanged=5), moved, NOW) == Next(
        PARCEL.key, NOW + timedelta(minutes=30), 0
    )


def test_the_wait_doubles_while_nothing_changes_up_to_the_ceiling() -> None:
    waits = []
    unchanged = 0
    for _ in range(7):
        following = SCHEDULE.next(due(unchanged), None, NOW)
        assert following.poll_at is not None
        waits.append(following.poll_at - NOW)
        unchanged = following.unchanged_polls

    assert waits == [timedelta(hours=h) for h in (1, 2, 4, 6, 6, 6, 6)]
    assert unchanged == 7
    assert SCHEDULE.next(due(10_000), None, NOW).poll_at == NOW + timedelta(hours=6)


def test_no_poll_after_the_final_status() -> None:
    for final in (Milestone.DELIVERED, Milestone.PICKED_UP, Milestone.RETURNED_TO_SENDER):
        done = replace(PARCEL, last=final)
        assert SCHEDULE.next(due(), done, NOW) == Next(PARCEL.key, None, 0)


def test_a_parcel_followed_too_long_is_given_up() -> None:
    assert SCHEDULE.next(due(followed=timedelta(days=60)), None, NOW).poll_at is None
    assert SCHEDULE.next(due(followed=timedelta(days=59)), None, NOW).poll_at is not None
