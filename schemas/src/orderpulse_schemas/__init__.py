"""The orderpulse event contract: CloudEvents envelopes, topics, and the events each carries.

```python
from orderpulse_schemas import ORDERS, examples

event = ORDERS.events.validate_json(value)  # OrderAccepted | OrderDelayed | OrderCancelled
```

The model modules (`orders`, `shipments`, `returns`, `privacy`, `status`, `notifications`,
`outcomes`, `values`, `envelope`) are importable directly for the individual classes.
"""

from orderpulse_schemas import examples
from orderpulse_schemas.catalogue import event_models, get_topic, notice_models
from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.examples import iter_examples
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

__all__ = [
    "ALL_TOPICS",
    "ERASURE_REQUESTS",
    "NOTIFICATIONS",
    "NOTIFICATION_OUTCOMES",
    "ORDERS",
    "ORDER_STATUS",
    "RETURNS",
    "SHIPMENTS",
    "CloudEvent",
    "ErasureRequested",
    "Notice",
    "NotificationOutcome",
    "NotificationRequested",
    "OrderEvent",
    "OrderStatusChanged",
    "Payload",
    "ReturnEvent",
    "ShipmentEvent",
    "Topic",
    "event_models",
    "examples",
    "get_topic",
    "iter_examples",
    "notice_models",
]
