"""The registry of topics: name, key, owners and the events each may carry."""

from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.orders import OrderEvent
from orderpulse_schemas.outcomes import NotificationOutcome
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.shipments import ShipmentEvent
from orderpulse_schemas.status import OrderStatusChanged


@dataclass(frozen=True)
class Topic:
    """A Kafka topic of the contract. `name` is the default; services may configure another."""

    name: str
    description: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    events: TypeAdapter[Any]
    key: str = "the order id (the event's `subject`)"

    @property
    def dead_letter(self) -> str:
        """Where a consumer puts what it could not read, with the reason in a header."""
        return f"{self.name}.dlq"


ORDERS = Topic(
    "orders.v1",
    "Order facts from the e-shop backend.",
    ("e-shop backend",),
    ("status-tracker", "couriers"),
    TypeAdapter(OrderEvent),
)
SHIPMENTS = Topic(
    "shipments.v1",
    "Parcel facts from courier integrations: the shop's own, or the couriers service's.",
    ("courier integrations", "couriers"),
    ("status-tracker", "couriers"),
    TypeAdapter(ShipmentEvent),
)
RETURNS = Topic(
    "returns.v1",
    "Return facts from the e-shop or its returns portal.",
    ("e-shop backend", "returns portal"),
    ("returns",),
    TypeAdapter(ReturnEvent),
)
ERASURE_REQUESTS = Topic(
    "erasure-requests.v1",
    "Requests to erase a customer's personal data from every service.",
    ("e-shop backend",),
    ("status-tracker", "returns", "notifier"),
    TypeAdapter(ErasureRequested),
    key="the shop id",
)
ORDER_STATUS = Topic(
    "order-status.v1",
    "The status-tracker's canonical status changes.",
    ("status-tracker",),
    ("returns",),
    TypeAdapter(OrderStatusChanged),
)
NOTIFICATIONS = Topic(
    "notifications.v1",
    "Requests to tell a customer something.",
    ("status-tracker", "returns"),
    ("notifier",),
    TypeAdapter(NotificationRequested),
)
NOTIFICATION_OUTCOMES = Topic(
    "notification-outcomes.v1",
    "Sent, failed and delivered outcomes of notifications.",
    ("notifier",),
    ("status-tracker",),
    TypeAdapter(NotificationOutcome),
)

ALL_TOPICS = (
    ORDERS,
    SHIPMENTS,
    RETURNS,
    ERASURE_REQUESTS,
    ORDER_STATUS,
    NOTIFICATIONS,
    NOTIFICATION_OUTCOMES,
)
