"""When to ask a customer for a review, and whether to still ask. Pure: no I/O.

The timer is set as the order arrives, only for a shop that asks and a customer who consented;
any step of a return (a withdrawal above all) cancels it, and so does the customer's erasure
(the store clears it with the customer). It goes once: the request's id derives from the order.
"""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from orderpulse_kit.review_requests import ReviewRequests
from orderpulse_schemas.notifications import ReviewRequestNotice
from orderpulse_schemas.status import OrderStatusChanged

REVIEW_TIME = time(10, 0)
"""A review request goes at ten in the morning, shop time: after the reminders, not at night."""
STALE_AFTER = timedelta(days=7)
"""A request this late (the service was down, or replayed old arrivals) is not sent at all:
asking about an order weeks old reads as spam."""
ABOUT = "review_request"
"""What the request announces, once per order: its id derives from it."""


def review_time(
    arrival: OrderStatusChanged, reviews: ReviewRequests, zone: ZoneInfo
) -> datetime | None:
    """When to ask for a review of the order that arrived (None: not at all)."""
    customer = arrival.data.customer
    if not reviews.enabled or customer is None or not customer.consent.reviews:
        return None
    if customer.email is None:
        return None  # review requests go by email only: there would be no one to ask
    day = arrival.time.astimezone(zone).date() + timedelta(days=reviews.days_after)
    return datetime.combine(day, REVIEW_TIME, tzinfo=zone)


def review_notice(
    reviews: ReviewRequests, received: str, received_at: datetime
) -> ReviewRequestNotice | None:
    """The request's notice, with the shop's review link as it is now; None when the shop has
    stopped asking meanwhile."""
    if not reviews.enabled or reviews.link is None:
        return None
    return ReviewRequestNotice.model_validate(
        {"received": received, "received_at": received_at, "review_url": str(reviews.link)}
    )


def still_due(review_at: datetime | None, now: datetime) -> bool:
    """Whether a review timer has come due and is not too late to act on."""
    return review_at is not None and review_at <= now < review_at + STALE_AFTER
