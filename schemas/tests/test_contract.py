"""The contract rejects what a consumer could not act on, with an error that says where and why."""

import copy
from collections.abc import Callable
from typing import Any

import pydantic.networks
import pytest
from pydantic import TypeAdapter, ValidationError

from orderpulse_schemas import (
    ALL_TOPICS,
    ERASURE_REQUESTS,
    NOTIFICATIONS,
    ORDERS,
    SHIPMENTS,
    Topic,
    examples,
    values,
)
from orderpulse_schemas.catalogue import UNIONS, event_models, get_topic, notice_models
from orderpulse_schemas.notifications import OrderDelayedNotice
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.values import STORED, Customer

Edit = Callable[[dict[str, Any]], object]


def edited(topic: str, name: str, edit: Edit) -> dict[str, Any]:
    message = copy.deepcopy(examples.load(topic, name))
    edit(message)
    return message


def rejection(topic: Topic, message: dict[str, Any]) -> tuple[str, str]:
    """The first error: its location (dotted) and its message."""
    with pytest.raises(ValidationError) as caught:
        topic.events.validate_python(message)
    error = caught.value.errors()[0]
    return ".".join(map(str, error["loc"])), error["msg"]


INVALID = {
    "unknown type": (
        ORDERS,
        edited("orders.v1", "order.accepted", lambda m: m.update(type="order.shipped")),
        "",
        "Input tag 'order.shipped' found using 'type' does not match any of the expected tags",
    ),
    "missing subject": (
        ORDERS,
        edited("orders.v1", "order.accepted", lambda m: m.pop("subject")),
        "order.accepted.subject",
        "Field required",
    ),
    "phone longer than any number": (
        ORDERS,
        edited(
            "orders.v1",
            "order.accepted",
            lambda m: m["data"]["customer"].update(phone="please call after 6 pm, ask for Petr"),
        ),
        "order.accepted.data.customer.phone",
        "String should have at most 32 characters",
    ),
    "a placeholder date": (
        ORDERS,
        edited(
            "orders.v1",
            "order.accepted",
            lambda m: m["data"].update(promised_dispatch="0001-01-01"),
        ),
        "order.accepted.data.promised_dispatch",
        "Input should be greater than or equal to 2000-01-01",
    ),
    "a moment beyond the century": (
        SHIPMENTS,
        edited(
            "shipments.v1",
            "shipment.at_pickup_point",
            lambda m: m["data"].update(stored_until="9999-12-31T23:59:59+01:00"),
        ),
        "shipment.at_pickup_point.data.stored_until",
        "Input should be less than or equal to 2099-12-31T23:59:59Z",
    ),
    "an amount beyond any order": (
        ORDERS,
        edited(
            "orders.v1",
            "order.accepted",
            lambda m: m["data"]["total"].update(amount="1E+999999999"),
        ),
        "order.accepted.data.total.amount",
        "Input should be less than or equal to 999999999999.99",
    ),
    "negative money": (
        ORDERS,
        edited("orders.v1", "order.accepted", lambda m: m["data"]["total"].update(amount="-1.00")),
        "order.accepted.data.total.amount",
        "Input should be greater than or equal to 0",
    ),
    "money as a float with too many decimals": (
        ORDERS,
        edited("orders.v1", "order.accepted", lambda m: m["data"]["total"].update(amount="12.975")),
        "order.accepted.data.total.amount",
        "Decimal input should have no more than 2 decimal places",
    ),
    "date window reversed": (
        ORDERS,
        edited(
            "orders.v1",
            "order.delayed",
            lambda m: m["data"].update(
                new_promised_delivery={"earliest": "2026-11-26", "latest": "2026-11-25"}
            ),
        ),
        "order.delayed.data.new_promised_delivery",
        "Value error, latest must not be before earliest",
    ),
    "time without offset": (
        SHIPMENTS,
        edited("shipments.v1", "shipment.delivered", lambda m: m.update(time="2026-11-27T10:21")),
        "shipment.delivered.time",
        "Input should have timezone info",
    ),
    "erasure without identifier": (
        ERASURE_REQUESTS,
        edited(
            "erasure-requests.v1",
            "customer.erasure_requested",
            lambda m: m.update(data={"order_ids": []}),
        ),
        "data",
        "Value error, give an email, a phone or order ids",
    ),
    "erasure of an empty order id": (
        ERASURE_REQUESTS,
        edited(
            "erasure-requests.v1",
            "customer.erasure_requested",
            lambda m: m.update(data={"order_ids": [""]}),
        ),
        "data.order_ids.0",
        "String should have at least 1 character",
    ),
    "notice kind unknown": (
        NOTIFICATIONS,
        edited(
            "notifications.v1",
            "notification.requested.delivered",
            lambda m: m["data"]["notice"].update(kind="teleported"),
        ),
        "data.notice",
        "Input tag 'teleported' found using 'kind' does not match any of the expected tags",
    ),
    "delay reason other without text": (
        SHIPMENTS,
        edited(
            "shipments.v1",
            "shipment.delayed",
            lambda m: m["data"].update(reason="other", reason_text=None),
        ),
        "shipment.delayed.data",
        "Value error, reason `other` needs reason_text",
    ),
    "delay reason unknown": (
        ORDERS,
        edited("orders.v1", "order.delayed", lambda m: m["data"].update(reason="aliens")),
        "order.delayed.data.reason",
        "Input should be 'out_of_stock', 'supplier_delay'",
    ),
    "courier window reversed": (
        SHIPMENTS,
        edited(
            "shipments.v1",
            "shipment.out_for_delivery",
            lambda m: m["data"].update(window_end="2026-11-05T08:00:00+01:00"),
        ),
        "shipment.out_for_delivery.data",
        "Value error, window_end must not be before window_start",
    ),
    "shop id with capitals": (
        ORDERS,
        edited("orders.v1", "order.cancelled", lambda m: m.update(shopid="Kvetinac.cz")),
        "order.cancelled.shopid",
        "String should match pattern",
    ),
}


@pytest.mark.parametrize(("topic", "message", "where", "why"), INVALID.values(), ids=INVALID.keys())
def test_invalid_input_is_rejected_saying_where_and_why(
    topic: Topic, message: dict[str, Any], where: str, why: str
) -> None:
    location, text = rejection(topic, message)

    assert (location, text[: len(why)]) == (where, why)


def test_a_tolerant_reader_accepts_fields_it_does_not_know() -> None:
    message = examples.load("orders.v1", "order.accepted")
    message["traceparent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    message["dataschema"] = "https://schemas.example.com/orders.v1.json"
    message["data"]["loyalty_points"] = 13
    message["data"]["customer"]["salutation"] = "pan"

    event = ORDERS.events.validate_python(message)

    assert isinstance(event, OrderAccepted)
    assert event == ORDERS.events.validate_python(examples.load("orders.v1", "order.accepted"))
    assert "traceparent" not in event.model_dump()


def test_a_customer_may_have_only_an_email() -> None:
    customer = Customer.model_validate(
        {
            "first_name": "Petr",
            "last_name": "Novák",
            "email": "petr.novak@example.cz",
            "locale": "cs",
        }
    )

    assert (customer.phone, customer.consent.sms) == (None, False)


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("+420 601 123 456", "+420601123456"),
        ("00420 601-123-456", "+420601123456"),
        ("(+48) 512.345.678", "+48512345678"),
        ("601 123 456", "601123456"),  # national: the notifier reads it in the locale's country
        (" n/a ", "n/a"),  # no number: the order counts, its texts fail saying why
    ],
)
def test_a_phone_as_shops_store_it_does_not_reject_the_order(written: str, kept: str) -> None:
    order = edited(
        "orders.v1", "order.accepted", lambda m: m["data"]["customer"].update(phone=written)
    )
    erasure = edited(
        "erasure-requests.v1",
        "customer.erasure_requested",
        lambda m: m["data"].update(phone=written),
    )

    accepted = ORDERS.events.validate_python(order)
    assert isinstance(accepted, OrderAccepted)
    assert accepted.data.customer.phone == kept
    assert ErasureRequested.model_validate(erasure).data.phone == kept  # an erasure matches it


def test_a_delay_notice_has_a_reason_unless_it_is_overdue() -> None:
    window = {"earliest": "2026-11-26", "latest": "2026-11-26"}
    with pytest.raises(ValidationError, match="needs its reason"):
        OrderDelayedNotice.model_validate({"source": "carrier", "new_expected_delivery": window})

    overdue = OrderDelayedNotice.model_validate(
        {"source": "overdue", "last_progress_on": "2026-11-24"}
    )

    assert overdue.reason is None


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_the_catalogue_unions_are_the_registered_ones(topic: Topic) -> None:
    assert TypeAdapter(UNIONS[topic.name]).json_schema() == topic.events.json_schema()
    assert get_topic(topic.name) is topic
    assert all(model.model_fields["type"].default == t for t, model in event_models(topic).items())


def test_catalogue_knows_every_topic_and_notice_kind() -> None:
    assert set(UNIONS) == {topic.name for topic in ALL_TOPICS}
    assert {"at_pickup_point", "pickup_reminder", "delivered", "picked_up"} <= set(notice_models())
    with pytest.raises(
        LookupError, match=r"unknown topic 'orders\.v2'; the contract has orders\.v1, "
    ):
        get_topic("orders.v2")


def test_an_email_is_checked_when_it_comes_in_not_when_a_service_reads_it_back() -> None:
    customer = {"first_name": "Petr", "last_name": "Novák", "email": "petr@", "locale": "cs"}
    with pytest.raises(ValidationError, match="email"):
        Customer.model_validate(customer)
    assert Customer.model_validate(customer, context={STORED: True}).email == "petr@"
    assert Customer.model_validate({**customer, "email": None}).email is None


def test_an_address_found_valid_is_not_checked_again_and_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked: list[str] = []
    check = pydantic.networks.validate_email

    def counting(value: str) -> tuple[str, str]:
        checked.append(value)
        return check(value)

    monkeypatch.setattr(pydantic.networks, "validate_email", counting)
    monkeypatch.setattr(values, "_CHECKED_EMAILS", set())
    customer = {"first_name": "Eva", "last_name": "Malá", "locale": "cs"}
    for _ in range(3):
        Customer.model_validate({**customer, "email": "eva.mala@example.cz"})
    for _ in range(2):
        with pytest.raises(ValidationError, match="email"):
            Customer.model_validate({**customer, "email": "eva.mala@"})
    assert checked == ["eva.mala@example.cz", "eva.mala@", "eva.mala@"]
    assert all(b"eva" not in digest for digest in values._CHECKED_EMAILS)
