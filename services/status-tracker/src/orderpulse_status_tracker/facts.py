"""What the tracker reacts to: order and shipment events, and its own timers firing."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from orderpulse_schemas.orders import OrderEvents
from orderpulse_schemas.outcomes import NotificationDelivered, NotificationFailed, NotificationSent
from orderpulse_schemas.shipments import ShipmentEvents

TimerKind = Literal["dispatch_overdue", "delivery_overdue", "pickup_reminder"]


@dataclass(frozen=True)
class TimerFired:
    """A durable timer came due: something expected did not happen in time."""

    shop_id: str
    order_id: str
    kind: TimerKind
    due_at: datetime

    @property
    def id(self) -> str:
        """Deterministic, so a timer fired twice (or by two replicas) is processed once."""
        return f"{self.order_id}/{timer_id(self.kind, self.due_at)}"

    @property
    def time(self) -> datetime:
        """When the fact became true: the moment the timer came due."""
        return self.due_at

    type = "timer.fired"


def timer_id(kind: str, due_at: datetime) -> str:
    """The id of the timer `kind` due at `due_at`."""
    return f"timer/{kind}/{due_at.isoformat()}"


ShipmentFact = ShipmentEvents
Fact = OrderEvents | ShipmentEvents | TimerFired
EventFacts = OrderEvents | ShipmentEvents
EventFact = Annotated[EventFacts, Field(discriminator="type")]
"""A fact that came as an event; how early facts are read back from storage."""
Outcome = NotificationSent | NotificationFailed | NotificationDelivered
"""What the notifier says became of a request: kept for the support timeline."""
