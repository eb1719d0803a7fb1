"""Notification requests, with ids derived from what they announce."""

import hashlib
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
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}
"""The RFC 4122 variant's top bits set in the hex digit that holds them."""


def derived_id(*parts: str) -> str:
    """A deterministic id, so a replayed cause yields the very same message: `uuid.uuid5` of the
    parts joined by `/` in our namespace, formatted straight from the hash (building the `UUID`
    object was most of the CPU of deciding an arrival)."""
    digest = hashlib.sha1(_NAMESPACE.bytes + "/".join(parts).encode()).hexdigest()
    return (
        f"{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
        f"{_VARIANT[digest[16]]}{digest[17:20]}-{digest[20:32]}"
    )


def request(
    *,
    shop_id: str,
    order_id: str,
    order_number: str,
    customer: Customer,
    notice: Notice,
    about: str,
    time: datetime,
    cause_id: str | None,
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
            cause_id=cause_id,
            order_number=order_number,
            customer=customer,
            notice=notice,
        ),
    )
