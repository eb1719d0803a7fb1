"""Durable timers: when to check that something expected happened, and what to say if not.

`timers_for` is declarative: the timers an order needs in its current state. Progress removes a
timer by no longer asking for it, and `on_timer` checks again when one fires, so a reminder never
goes out after the pickup, nor a delay notice after the delivery.
"""

from datetime import date, datetime, time, timedelta

from orderpulse_schemas.notifications import (
    AtPickupPointNotice,
    DelaySource,
    Notice,
    OrderDelayedNotice,
)
from orderpulse_schemas.shipments import ShipmentAtPickupPointData
from orderpulse_schemas.status import OrderStatus
from orderpulse_status_tracker.facts import TimerFired, TimerKind, timer_id
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.state import TrackedOrder


def timers_for(order: TrackedOrder, policy: ShopPolicy) -> dict[TimerKind, datetime]:
    """The timers `order` needs now, by kind, with when each comes due."""
    if order.closed or order.customer is None:
        return {}
    wanted: dict[TimerKind, datetime] = {}
    if order.promised_dispatch and not order.dispatched:
        wanted["dispatch_overdue"] = _end_of(order.promised_dispatch, policy)
    if waiting := _waiting_at_point(order):  # now the deadline to collect it matters
        hours = timedelta(hours=policy.pickup_reminder_hours)
        wanted["pickup_reminder"] = waiting.stored_until - hours
    else:
        wanted["delivery_overdue"] = _end_of(order.expected_delivery.latest, policy)
    return {
        kind: due
        for kind, due in wanted.items()
        if order.announced.get(kind) != timer_id(kind, due)  # fired already
    }


def on_timer(order: TrackedOrder, timer: TimerFired) -> list[Notice]:
    """What to tell the customer now that `timer` fired, checked against the order as it is."""
    if order.closed:
        return []
    match timer.kind:
        case "dispatch_overdue" if not order.dispatched:
            return [OrderDelayedNotice(source=DelaySource.OVERDUE)]
        case "delivery_overdue" if not _waiting_at_point(order):
            last_scan = order.last_progress_at.date() if order.last_progress_at else None
            return [OrderDelayedNotice(source=DelaySource.OVERDUE, last_progress_on=last_scan)]
        case "pickup_reminder" if waiting := _waiting_at_point(order):
            return [AtPickupPointNotice(**waiting.model_dump(), kind="pickup_reminder")]
    return []


def _waiting_at_point(order: TrackedOrder) -> ShipmentAtPickupPointData | None:
    """Where and until when a parcel waits for the customer, if one does."""
    if OrderStatus.AT_PICKUP_POINT in order.parcels.values():
        return order.pickup
    return None


def _end_of(day: date, policy: ShopPolicy) -> datetime:
    """The first moment after `day` in the shop's time zone."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.time_zone)
