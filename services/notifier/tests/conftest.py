from pathlib import Path

import pytest

from orderpulse_notifier.shops import Shop, load_shops
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested

SHOPS_FILE = Path(__file__).resolve().parents[3] / "deploy" / "shops.yaml"


@pytest.fixture(scope="session")
def shops() -> dict[str, Shop]:
    return load_shops(SHOPS_FILE)


def notification(kind: str, **customer: object) -> NotificationRequested:
    """The example request of `kind`, with customer fields replaced as given."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["data"]["customer"].update(customer)
    return NotificationRequested.model_validate(message)
