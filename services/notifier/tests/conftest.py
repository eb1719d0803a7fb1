from pathlib import Path

import pytest

from orderpulse_notifier.shops import Shop, load_shops
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.privacy import ErasureRequested

SHOPS_FILE = Path(__file__).resolve().parents[3] / "deploy" / "shops.yaml"
PETR = {"email": "petr.novak@example.cz", "phone": "+420601123456"}
"""The customer of the example requests."""


@pytest.fixture(scope="session")
def shops() -> dict[str, Shop]:
    return load_shops(SHOPS_FILE)


def notification(kind: str, **customer: object) -> NotificationRequested:
    """The example request of `kind`, with customer fields replaced as given."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"].update(customer)
    return NotificationRequested.model_validate(message)


def about(
    request: NotificationRequested, order_number: str, shop_id: str = "kvetinac-cz"
) -> NotificationRequested:
    """`request` about another order (of another shop), as a notification of its own."""
    message = request.model_dump(mode="json")
    message["id"] = f"{shop_id}/{order_number}/{request.id}"
    message["shopid"], message["subject"] = shop_id, f"ord-{order_number}"
    message["data"]["order_number"] = order_number
    message["data"]["notification_id"] = f"{shop_id}/{order_number}/{request.data.notice.kind}"
    return NotificationRequested.model_validate(message)


def erasure(shop_id: str = "kvetinac-cz", **data: object) -> ErasureRequested:
    """The example erasure request, of `shop_id`, for what `data` gives."""
    message = examples.load("erasure-requests.v1", "customer.erasure_requested")
    message["shopid"], message["data"] = shop_id, data
    return ErasureRequested.model_validate(message)
