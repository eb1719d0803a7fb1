"""Outgoing messages: status changes and notification requests, with ids derived from the cause."""

import uuid
from dataclasses import dataclass
from datetime import datetime

from orderpulse_kit.message import Message
from orderpulse_schemas.envelope import CloudEvent
from orderpulse_schemas.notifications import (
    Notice,
    NotificationRequested,
    NotificationRequestedData,
)
from orderpulse_schemas.status import (
    CollectionPoint,
    OrderStatus,
    OrderStatusChanged,
    OrderStatusChangedData,
)
from orderpulse_status_tracker.state import TrackedOrder

SOURCE = "/orderpulse/status-tracker"
_NAMESPACE = uuid.UUID("8a0b1c52-7f7e-4a57-9d6c-2f6f0d2a3b10")
_RECEIVED = (OrderStatus.DELIVERED, OrderStatus.PICKED_UP)


@dataclass(frozen=True)
class Topics:
    """Where the tracker publishes."""

    order_status: str
    notifications: str


Outgoing = Message
"""A message to publish once its cause is safely recorded; JSON-ready so it can be stored."""


def _on(topic: str, event: CloudEvent) -> Outgoing:
    """The event on `topic`, keyed by its order id."""
    return Outgoing(topic, event.subject, event.model_dump(mode="json", exclude_none=True))


def derived_id(*parts: str) -> str:
    """A deterministic id from the cause, so a replayed cause yields the very same message."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def status_change(
    order: TrackedOrder, before: OrderStatus | None, cause_id: str, time: datetime, topics: Topics
) -> Outgoing:
    """`order.status_changed`; a delivery carries the customer, whom returns will write to.

    A pickup also says where the order was collected: returns offers it as a drop-off point.
    """
    event = OrderStatusChanged(
        id=derived_id(order.shop_id, cause_id, "status"),
        source=SOURCE,
        time=time,
        subject=order.order_id,
        shopid=order.shop_id,
        data=OrderStatusChangedData(
            order_number=order.order_number,
            status=order.status,
            previous_status=before,
            cause_id=cause_id,
            customer=order.customer if order.status in _RECEIVED else None,
            collected_from=_collected_from(order),
        ),
    )
    return _on(topics.order_status, event)


def _collected_from(order: TrackedOrder) -> CollectionPoint | None:
    """The point the order was picked up at, if it was picked up (and the point is known)."""
    if order.status is not OrderStatus.PICKED_UP or order.pickup is None:
        return None
    return CollectionPoint(carrier=order.pickup.carrier, point=order.pickup.point)


def notification(
    order: TrackedOrder, notice: Notice, cause_id: str, time: datetime, topics: Topics
) -> Outgoing:
    """`notification.requested` for `notice`, addressed to the order's customer."""
    assert order.customer is not None, "an erased customer is never notified"
    event = NotificationRequested(
        id=derived_id(order.shop_id, cause_id, "notification", notice.kind),
        source=SOURCE,
        time=time,
        subject=order.order_id,
        shopid=order.shop_id,
        data=NotificationRequestedData(
            notification_id=derived_id(order.shop_id, cause_id, notice.kind),
            cause_id=cause_id,
            order_number=order.order_number,
            customer=order.customer,
            notice=notice,
        ),
    )
    return _on(topics.notifications, event)
