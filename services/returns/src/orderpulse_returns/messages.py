"""Notification requests, with ids derived from what they announce."""

import uuid
from datetime import datetime

from orderpulse_schemas.notifications import (
    Notice,
    NotificationRequested,
    NotificationRequestedData,
)
from orderpulse_schemas.values import Customer

SOURCE = "/orderpulse/returns"
_NAMESPACE = uuid.UUID("5d1f3a7e-2b64-4c0e-9a51-7c3e8f2d4b96")


def derived_id(*parts: str) -> str:
    """A deterministic id, so a replayed cause yields the very same message."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def request(
    *,
    shop_id: str,
    order_id: str,
    order_number: str,
    customer: Customer,
    notice: Notice,
    about: str,
    time: datetime,
) -> NotificationRequested:
    """`notification.requested` for `notice`; `about` names what it announces, once per order."""
    notification_id = derived_id(shop_id, order_id, about)
    return NotificationRequested(
        id=derived_id(notification_id, "requested"),
        source=SOURCE,
        time=time,
        subject=order_id,
        shopid=shop_id,
        data=NotificationRequestedData(
            notification_id=notification_id,
            order_number=order_number,
            customer=customer,
            notice=notice,
        ),
    )
