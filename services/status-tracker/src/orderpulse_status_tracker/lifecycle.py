"""What an order event changes, and what the customer must hear about it. Pure: no I/O.

Walking-skeleton scope: order facts (`orders.v1`). Courier facts, timers and early arrivals
come with the full lifecycle.
"""

from dataclasses import dataclass, field, replace

from orderpulse_schemas.notifications import (
    DelaySource,
    Notice,
    NotificationRequested,
    NotificationRequestedData,
    OrderAcceptedNotice,
    OrderCancelledNotice,
    OrderDelayedNotice,
)
from orderpulse_schemas.orders import OrderAccepted, OrderCancelled, OrderDelayed, OrderEvent
from orderpulse_schemas.status import OrderStatus, OrderStatusChanged, OrderStatusChangedData
from orderpulse_schemas.values import Customer
from orderpulse_status_tracker.messages import SOURCE, Outgoing, derived_id


@dataclass(frozen=True)
class Topics:
    """Where decisions are published."""

    order_status: str
    notifications: str


@dataclass(frozen=True)
class TrackedOrder:
    """What the tracker keeps of an order. `customer` is personal data."""

    shop_id: str
    order_id: str
    order_number: str
    status: OrderStatus
    customer: Customer


@dataclass(frozen=True)
class Decision:
    """The order after an event, and the messages the event causes."""

    order: TrackedOrder | None
    outgoing: list[Outgoing] = field(default_factory=list)


def decide(order: TrackedOrder | None, event: OrderEvent, topics: Topics) -> Decision:
    """Apply `event` to `order` (None when not seen yet)."""
    match event:
        case OrderAccepted() if order is None:
            accepted = TrackedOrder(
                shop_id=event.shopid,
                order_id=event.subject,
                order_number=event.data.order_number,
                status=OrderStatus.ACCEPTED,
                customer=event.data.customer,
            )
            notice: Notice = OrderAcceptedNotice(
                items=event.data.items,
                total=event.data.total,
                delivery=event.data.delivery,
                promised_delivery=event.data.promised_delivery,
            )
            return _moved(accepted, None, event, notice, topics)
        case OrderDelayed() if order is not None:
            notice = OrderDelayedNotice(
                source=DelaySource.SHOP,
                reason=event.data.reason,
                reason_text=event.data.reason_text,
                new_expected_delivery=event.data.new_promised_delivery,
            )
            return _moved(replace(order, status=OrderStatus.DELAYED), order, event, notice, topics)
        case OrderCancelled() if order is not None and order.status != OrderStatus.CANCELLED:
            notice = OrderCancelledNotice(
                reason=event.data.reason,
                reason_text=event.data.reason_text,
                refund=event.data.refund,
            )
            return _moved(
                replace(order, status=OrderStatus.CANCELLED), order, event, notice, topics
            )
    return Decision(order)


def _moved(
    order: TrackedOrder,
    before: TrackedOrder | None,
    cause: OrderEvent,
    notice: Notice,
    topics: Topics,
) -> Decision:
    common = {
        "source": SOURCE,
        "time": cause.time,
        "subject": order.order_id,
        "shopid": order.shop_id,
    }
    status = OrderStatusChanged(
        id=derived_id(order.shop_id, cause.id, "status"),
        data=OrderStatusChangedData(
            order_number=order.order_number,
            status=order.status,
            previous_status=before.status if before else None,
            cause_id=cause.id,
        ),
        **common,
    )
    request = NotificationRequested(
        id=derived_id(order.shop_id, cause.id, "notification", notice.kind),
        data=NotificationRequestedData(
            notification_id=derived_id(order.shop_id, cause.id, notice.kind),
            order_number=order.order_number,
            customer=order.customer,
            notice=notice,
        ),
        **common,
    )
    return Decision(
        order,
        [Outgoing.of(topics.order_status, status), Outgoing.of(topics.notifications, request)],
    )
