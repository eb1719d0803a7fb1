"""What each topic carries: its event models by `type`, and the notice models by `kind`."""

from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.notifications import Notice, NotificationRequested
from orderpulse_schemas.orders import OrderEvent
from orderpulse_schemas.outcomes import NotificationOutcome
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.shipments import ShipmentEvent
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import (
    ALL_TOPICS,
    ERASURE_REQUESTS,
    NOTIFICATION_OUTCOMES,
    NOTIFICATIONS,
    ORDER_STATUS,
    ORDERS,
    RETURNS,
    SHIPMENTS,
    Topic,
)

UNIONS: dict[str, Any] = {
    ORDERS.name: OrderEvent,
    SHIPMENTS.name: ShipmentEvent,
    RETURNS.name: ReturnEvent,
    ERASURE_REQUESTS.name: ErasureRequested,
    ORDER_STATUS.name: OrderStatusChanged,
    NOTIFICATIONS.name: NotificationRequested,
    NOTIFICATION_OUTCOMES.name: NotificationOutcome,
}
"""The type each topic's `events` adapter validates, by topic name (a test keeps them equal)."""


def get_topic(name: str) -> Topic:
    """The registered topic with this default name."""
    for topic in ALL_TOPICS:
        if topic.name == name:
            return topic
    known = ", ".join(topic.name for topic in ALL_TOPICS)
    raise LookupError(f"unknown topic {name!r}; the contract has {known}")


def members(union: Any) -> tuple[Any, ...]:
    """The alternatives of a (possibly `Annotated`) union, or the type itself when it is none."""
    if get_origin(union) is Annotated:
        union = get_args(union)[0]
    if get_origin(union) in (Union, UnionType):
        return get_args(union)
    return (union,)


def literal_values(model: type[BaseModel], field: str) -> tuple[str, ...]:
    """The values a model's `Literal` field (a discriminator such as `type`) may take."""
    annotation = model.model_fields[field].annotation
    if get_origin(annotation) is not Literal:
        raise TypeError(f"{model.__name__}.{field} is not a Literal")
    return get_args(annotation)


def event_models(topic: Topic) -> dict[str, type[CloudEvent]]:
    """The topic's event models by their `type`, in the order the union lists them."""
    models: dict[str, type[CloudEvent]] = {}
    for model in members(UNIONS[topic.name]):
        for event_type in literal_values(model, "type"):
            models[event_type] = model
    return models


def notice_models() -> dict[str, type[Payload]]:
    """The notices of `notification.requested` by `kind` (one model may serve two kinds)."""
    models: dict[str, type[Payload]] = {}
    for model in members(Notice):
        for kind in literal_values(model, "kind"):
            models[kind] = model
    return models
