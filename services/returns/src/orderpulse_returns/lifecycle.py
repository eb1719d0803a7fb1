"""What the customer hears about returning an order, and when. Pure: no I/O.

An order enters when the tracker says it was delivered or picked up (the last parcel); its return
events then each announce their step once. A late step (a label after the goods came back) is
recorded but not announced, except the acknowledgement of a withdrawal, which is always owed.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orderpulse_returns.deadlines import refund_by, refund_on_receipt, withdrawal_deadline
from orderpulse_returns.messages import request
from orderpulse_returns.reviews import ABOUT, review_notice, review_time, still_due
from orderpulse_returns.shops import ReturnsPolicy
from orderpulse_schemas.notifications import (
    Notice,
    NotificationRequested,
    ReturnInstructionsNotice,
    ReturnLabelIssuedNotice,
    ReturnReceivedNotice,
    ReturnRefundedNotice,
    ReturnRejectedNotice,
    ReturnRequestedNotice,
)
from orderpulse_schemas.returns import (
    ReturnEvent,
    ReturnLabelIssued,
    ReturnReceived,
    ReturnRefunded,
    ReturnRejected,
    ReturnRequested,
)
from orderpulse_schemas.status import OrderStatus, OrderStatusChanged
from orderpulse_schemas.values import Customer, PickupPoint

RECEIVED = (OrderStatus.DELIVERED, OrderStatus.PICKED_UP)
STEP_RANK = {
    "return.requested": 0,
    "return.label_issued": 1,
    "return.received": 2,
    "return.refunded": 3,
    "return.rejected": 3,
}
REMINDER_TIME = time(9, 0)
"""A reminder goes out at nine in the morning, shop time: read over breakfast, not at midnight."""


class ReturnsOrder(BaseModel):
    """What the returns service knows of one received order. `customer` is personal data."""

    model_config = ConfigDict(frozen=True)

    shop_id: str
    order_id: str
    order_number: str
    customer: Customer | None = Field(description="None once erased.")
    received_at: datetime
    withdrawal_deadline: date
    dropoff_point: PickupPoint | None = None
    steps: dict[str, list[str]] = Field(
        default_factory=dict, description="Return id → the step types heard, in order."
    )
    requested_at: dict[str, datetime] = Field(
        default_factory=dict,
        description="Return id → when the customer withdrew: the refund date counts from it.",
    )
    remind_at: datetime | None = None
    review_at: datetime | None = Field(
        default=None, description="When to ask for a review; None: not (any more)."
    )
    arrival: tuple[Literal["delivered", "picked_up"], str] | None = Field(
        default=None, description="How the order arrived, and the id of the event that said so."
    )


@dataclass(frozen=True)
class Decision:
    """The order after an event, and the notifications it causes."""

    order: ReturnsOrder
    requests: list[NotificationRequested] = field(default_factory=list)

    def then(self, next_decision: "Decision") -> "Decision":
        """This decision followed by one taken on its order."""
        return Decision(next_decision.order, self.requests + next_decision.requests)


def received(event: OrderStatusChanged, policy: ReturnsPolicy) -> Decision:
    """The order arrived: the withdrawal period starts, and the customer hears how to return."""
    data = event.data
    assert data.status in RECEIVED
    deadline = withdrawal_deadline(event.time, policy)
    point = data.collected_from
    order = ReturnsOrder(
        shop_id=event.shopid,
        order_id=event.subject,
        order_number=data.order_number,
        customer=data.customer,
        received_at=event.time,
        withdrawal_deadline=deadline,
        dropoff_point=point.point if point and policy.takes_dropoff_at(point.carrier) else None,
        remind_at=_reminder_time(deadline, policy),
        review_at=review_time(event, policy.reviews, policy.time_zone),
        arrival=(data.status.value, event.id),
    )
    notice = ReturnInstructionsNotice(
        withdrawal_deadline=deadline,
        received=data.status.value if policy.merge_with_delivered else None,
        dropoff_point=order.dropoff_point,
    )
    return _announce(order, notice, "return_instructions", event.time, event.id)


def returned(order: ReturnsOrder, event: ReturnEvent, policy: ReturnsPolicy) -> Decision:
    """A return moved a step: acknowledge it, unless the return is further along already."""
    return_id = event.data.return_id
    heard = order.steps.get(return_id, [])
    rank = STEP_RANK[event.type]
    late = bool(heard) and rank <= max(STEP_RANK[step] for step in heard)
    requested_at = order.requested_at
    if isinstance(event, ReturnRequested) and return_id not in requested_at:
        requested_at = {**requested_at, return_id: event.time}
    order = order.model_copy(
        update={
            "steps": {**order.steps, return_id: [*heard, event.type]},
            "requested_at": requested_at,
            "remind_at": None,  # the customer has acted: no reminder to withdraw
            "review_at": None,  # and no request for a review of goods going back
        }
    )
    if event.type in heard or (late and not isinstance(event, ReturnRequested)):
        return Decision(order)
    notice = _step_notice(event, requested_at.get(return_id), policy)
    return _announce(order, notice, f"{return_id}/{notice.kind}", event.time, event.id)


def remind(order: ReturnsOrder, now: datetime, policy: ReturnsPolicy) -> Decision:
    """The reminder is due: say the window closes soon, while it is still open."""
    if order.remind_at is None or now < order.remind_at:
        return Decision(order)
    done = order.model_copy(update={"remind_at": None})
    if now.astimezone(policy.time_zone).date() > order.withdrawal_deadline:
        return Decision(done)  # woken too late (the service was down): the window has closed
    notice = ReturnInstructionsNotice(
        kind="return_window_closing",
        withdrawal_deadline=order.withdrawal_deadline,
        dropoff_point=order.dropoff_point,
    )
    about = f"return_window_closing/{order.withdrawal_deadline}"
    return _announce(done, notice, about, now, cause_id=None)  # no event: the reminder's time


def ask_for_review(order: ReturnsOrder, now: datetime, policy: ReturnsPolicy) -> Decision:
    """The review request is due: ask once, unless the shop stopped asking meanwhile or it is
    too late (see `reviews.STALE_AFTER`). A return cleared the timer before this."""
    if order.review_at is None or now < order.review_at:
        return Decision(order)
    done = order.model_copy(update={"review_at": None})
    if not still_due(order.review_at, now) or order.arrival is None or order.steps:
        return Decision(done)
    received_as, cause_id = order.arrival
    notice = review_notice(policy.reviews, received_as, order.received_at)
    if notice is None:
        return Decision(done)
    return _announce(done, notice, ABOUT, now, cause_id)


def _step_notice(
    event: ReturnEvent, requested_at: datetime | None, policy: ReturnsPolicy
) -> Notice:
    """The notice of a step; `requested_at` is when the return was requested, if heard."""
    data = event.data.model_dump()
    match event:
        case ReturnRequested():
            return ReturnRequestedNotice(
                **data, requested_at=event.time, refund_by=refund_by(event.time, policy)
            )
        case ReturnLabelIssued():
            return ReturnLabelIssuedNotice(**data)
        case ReturnReceived():
            if requested_at is None:  # the request was never heard: no date to count from
                return ReturnReceivedNotice(**data)
            due = refund_on_receipt(requested_at, event.time, policy)
            return ReturnReceivedNotice(**data, refund_by=due)
        case ReturnRefunded():
            return ReturnRefundedNotice(**data)
        case ReturnRejected():
            return ReturnRejectedNotice(**data)


def _reminder_time(deadline: date, policy: ReturnsPolicy) -> datetime | None:
    if policy.reminder_days_before is None:
        return None
    day = deadline - timedelta(days=policy.reminder_days_before)
    return datetime.combine(day, REMINDER_TIME, tzinfo=policy.time_zone)


def _announce(
    order: ReturnsOrder, notice: Notice, about: str, at: datetime, cause_id: str | None
) -> Decision:
    """The notification for `notice` (caused by the event `cause_id`), unless the customer was
    erased."""
    if order.customer is None:
        return Decision(order)
    notification = request(
        shop_id=order.shop_id,
        order_id=order.order_id,
        order_number=order.order_number,
        customer=order.customer,
        notice=notice,
        about=about,
        time=at,
        cause_id=cause_id,
    )
    return Decision(order, [notification])
