"""What a fact changes in an order, and what the customer must hear about it. Pure: no I/O.

Facts are order events, shipment events and fired timers. Out-of-order and repeated facts are
absorbed here: a parcel never moves back, and the same thing is never announced twice.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import BaseModel

from orderpulse_schemas.notifications import (
    AtPickupPointNotice,
    DelaySource,
    DeliveryFailedNotice,
    Notice,
    OrderAcceptedNotice,
    OrderCancelledNotice,
    OrderDelayedNotice,
    OrderDispatchedNotice,
    OutForDeliveryNotice,
    ReceivedNotice,
    ReturnedToSenderNotice,
)
from orderpulse_schemas.orders import OrderAccepted, OrderCancelled, OrderDelayed, OrderDelayedData
from orderpulse_schemas.shipments import (
    ShipmentAtPickupPoint,
    ShipmentAtPickupPointData,
    ShipmentDelayed,
    ShipmentDelayedData,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentDispatched,
    ShipmentOutForDelivery,
    ShipmentPickedUp,
    ShipmentReturnedToSender,
)
from orderpulse_schemas.status import OrderStatus
from orderpulse_schemas.values import DateWindow
from orderpulse_status_tracker.facts import Fact, ShipmentFact, TimerFired, timer_id
from orderpulse_status_tracker.messages import Outgoing, Topics, notification, status_change
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.state import FINAL, RANK, TrackedOrder
from orderpulse_status_tracker.timers import on_timer

SHIPMENT_STATUS = {
    "shipment.dispatched": OrderStatus.DISPATCHED,
    "shipment.in_transit": OrderStatus.IN_TRANSIT,
    "shipment.out_for_delivery": OrderStatus.OUT_FOR_DELIVERY,
    "shipment.at_pickup_point": OrderStatus.AT_PICKUP_POINT,
    "shipment.delivery_failed": OrderStatus.DELIVERY_FAILED,
    "shipment.delivered": OrderStatus.DELIVERED,
    "shipment.picked_up": OrderStatus.PICKED_UP,
    "shipment.returned_to_sender": OrderStatus.RETURNED_TO_SENDER,
}


@dataclass(frozen=True)
class Decision:
    """The order after a fact (None: keep the fact until the order is known) and what it causes."""

    order: TrackedOrder | None
    outgoing: list[Outgoing] = field(default_factory=list)


def decide(order: TrackedOrder | None, fact: Fact, policy: ShopPolicy, topics: Topics) -> Decision:
    """Apply `fact` to `order`."""
    if isinstance(fact, OrderAccepted):
        return _accepted(fact, policy, topics) if order is None else Decision(order)
    if order is None:
        return Decision(None)
    effects = _Effects(order, fact, policy, topics)
    match fact:
        case TimerFired():
            for notice in on_timer(order, fact):
                effects.notify(notice, fact.id)
            fired = {**effects.order.announced, fact.kind: timer_id(fact.kind, fact.due_at)}
            effects.move(replace(effects.order, announced=fired))
        case OrderDelayed() if not order.closed:
            _delayed(effects, DelaySource.SHOP, fact.data, fact.data.new_promised_delivery)
        case OrderCancelled() if not order.closed:
            effects.move(replace(order, status=OrderStatus.CANCELLED))
            effects.notify(
                OrderCancelledNotice(
                    reason=fact.data.reason,
                    reason_text=fact.data.reason_text,
                    refund=fact.data.refund,
                ),
                "cancelled",
            )
        case ShipmentDelayed() if not order.closed:
            _delayed(effects, DelaySource.CARRIER, fact.data, fact.data.new_expected_delivery)
        case _ if fact.type in SHIPMENT_STATUS and not order.closed:
            _parcel_moved(effects, order, fact)  # type: ignore[arg-type]
    return effects.decision()


def _delayed(
    effects: "_Effects",
    source: DelaySource,
    delay: OrderDelayedData | ShipmentDelayedData,
    new_date: DateWindow,
) -> None:
    """A delay moves the expected date and is announced once per new date, with its reason."""
    notice = OrderDelayedNotice(
        source=source,
        reason=delay.reason,
        reason_text=delay.reason_text,
        new_expected_delivery=new_date,
    )
    effects.move(replace(effects.order, expected_delivery=new_date))
    effects.notify(notice, _fingerprint(notice))


def _accepted(event: OrderAccepted, policy: ShopPolicy, topics: Topics) -> Decision:
    order = TrackedOrder(
        shop_id=event.shopid,
        order_id=event.subject,
        order_number=event.data.order_number,
        customer=event.data.customer,
        status=OrderStatus.ACCEPTED,
        promised_dispatch=event.data.promised_dispatch,
        expected_delivery=event.data.promised_delivery,
    )
    effects = _Effects(order, event, policy, topics, new=True)
    effects.notify(
        OrderAcceptedNotice(
            items=event.data.items,
            total=event.data.total,
            delivery=event.data.delivery,
            promised_delivery=event.data.promised_delivery,
            carrier=event.data.carrier,
            delivery_price=event.data.delivery_price,
            payment_method=event.data.payment_method,
            payment_price=event.data.payment_price,
        ),
        "accepted",
    )
    return effects.decision()


def _parcel_moved(effects: "_Effects", order: TrackedOrder, fact: ShipmentFact) -> None:
    status = SHIPMENT_STATUS[fact.type]
    current = order.parcels.get(fact.data.tracking_number)
    if current is not None and (RANK[status] < RANK[current] or RANK[current] == FINAL):
        return  # late or repeated: the parcel is further along already
    parcels = {**order.parcels, fact.data.tracking_number: status}
    # The latest time seen, not the latest fact's: parcels' facts may come in any order, and the
    # order is received when its last parcel is, which need not be the fact that closes it.
    seen = fact.time if order.last_progress_at is None else max(order.last_progress_at, fact.time)
    moved = replace(order, parcels=parcels, last_progress_at=seen)
    if isinstance(fact, ShipmentDispatched):
        moved = replace(
            moved,
            parcel_count=max(order.parcel_count, fact.data.parcel_count),
            expected_delivery=fact.data.expected_delivery,
        )
        if fact.data.tracking_url is not None:
            urls = {**order.tracking_urls, fact.data.tracking_number: str(fact.data.tracking_url)}
            moved = replace(moved, tracking_urls=urls)
    if isinstance(fact, ShipmentAtPickupPoint):
        moved = replace(moved, pickup=_tracked(fact.data, order.tracking_urls))
    if RANK[status] == FINAL and not moved.closed:
        effects.move(moved)  # one parcel of several: the order waits for the others
        return
    if RANK[status] == FINAL:
        effects.changed_at = seen  # this fact closes the order, complete since its last parcel
    if RANK[status] >= RANK.get(order.status, 0):  # the order follows its furthest parcel
        moved = replace(moved, status=status)
    effects.move(moved)
    notice = _notice_for(fact, received_at=seen, pickup=moved.pickup)
    if notice is not None:
        once = notice.kind in ("order_dispatched", "delivered", "picked_up", "returned_to_sender")
        effects.notify(notice, notice.kind if once else _fingerprint(notice))


def _tracked(
    pickup: ShipmentAtPickupPointData, tracking_urls: dict[str, str]
) -> ShipmentAtPickupPointData:
    """`pickup` with the tracking link of its dispatch when the carrier gave none at the point."""
    url = tracking_urls.get(pickup.tracking_number)
    if pickup.tracking_url is not None or url is None:
        return pickup
    return ShipmentAtPickupPointData.model_validate(pickup.model_dump() | {"tracking_url": url})


def _notice_for(
    fact: ShipmentFact, received_at: datetime, pickup: ShipmentAtPickupPointData | None = None
) -> Notice | None:
    """What the customer hears about a parcel's step; transit scans are recorded, not announced.

    `received_at` is when the order's last parcel arrived, for a fact that completes the order;
    `pickup` is the parcel at a pickup point as the order keeps it (with its tracking link).
    """
    data = fact.data.model_dump()
    match fact:
        case ShipmentDispatched():
            return OrderDispatchedNotice.model_validate(data)
        case ShipmentOutForDelivery():
            return OutForDeliveryNotice.model_validate(data)
        case ShipmentAtPickupPoint():
            return AtPickupPointNotice.model_validate(pickup.model_dump() if pickup else data)
        case ShipmentDeliveryFailed():
            return DeliveryFailedNotice.model_validate(data)
        case ShipmentReturnedToSender():
            return ReturnedToSenderNotice(reason_text=fact.data.reason_text)
        case ShipmentDelivered():
            return ReceivedNotice(kind="delivered", received_at=received_at)
        case ShipmentPickedUp():
            return ReceivedNotice(kind="picked_up", received_at=received_at)
    return None


def _fingerprint(notice: BaseModel) -> str:
    return json.dumps(notice.model_dump(mode="json"), sort_keys=True)


class _Effects:
    """Collects the messages a fact causes while the order changes."""

    def __init__(
        self,
        order: TrackedOrder,
        cause: Fact,
        policy: ShopPolicy,
        topics: Topics,
        new: bool = False,
    ) -> None:
        self.order, self._before = order, None if new else order
        self._cause, self._policy, self._topics = cause, policy, topics
        self._notices: list[Notice] = []
        self.changed_at = cause.time
        """The status change's time: the cause's, unless it closes the order (`_parcel_moved`)."""

    def move(self, order: TrackedOrder) -> None:
        self.order = order

    def notify(self, notice: Notice, fingerprint: str) -> None:
        """Announce `notice` unless the shop does not want it or it was said already."""
        if self.order.announced.get(notice.kind) == fingerprint:
            return
        self.order = replace(
            self.order, announced={**self.order.announced, notice.kind: fingerprint}
        )
        if notice.kind in self._policy.notify and self.order.customer is not None:
            self._notices.append(notice)

    def decision(self) -> Decision:
        cause_id, time = self._cause.id, self._cause.time
        outgoing = []
        before = self._before.status if self._before else None
        if before is not self.order.status:
            outgoing.append(
                status_change(self.order, before, cause_id, self.changed_at, self._topics)
            )
        outgoing += [
            notification(self.order, n, cause_id, time, self._topics) for n in self._notices
        ]
        return Decision(self.order, outgoing)
