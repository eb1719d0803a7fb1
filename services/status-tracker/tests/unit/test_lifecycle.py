from typing import Any

from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.orders import OrderAccepted, OrderCancelled, OrderDelayed
from orderpulse_schemas.status import OrderStatus, OrderStatusChanged
from orderpulse_status_tracker.lifecycle import Topics, decide

TOPICS = Topics(order_status="status", notifications="requests")


def accepted() -> OrderAccepted:
    return OrderAccepted.model_validate(examples.load("orders.v1", "order.accepted"))


def test_an_accepted_order_is_tracked_and_the_customer_thanked() -> None:
    decision = decide(None, accepted(), TOPICS)

    assert decision.order is not None
    assert (decision.order.status, decision.order.order_number) == (OrderStatus.ACCEPTED, "10045")
    assert [(m.topic, m.key) for m in decision.outgoing] == [
        ("status", "ord-10045"),
        ("requests", "ord-10045"),
    ]
    status = OrderStatusChanged.model_validate(decision.outgoing[0].value)
    request = NotificationRequested.model_validate(decision.outgoing[1].value)
    assert (status.data.status, status.data.cause_id) == ("accepted", "evt-kc-10045-accepted")
    assert request.data.notice.kind == "order_accepted"
    assert request.data.customer.first_name == "Petr"


def test_the_same_cause_always_yields_the_same_message_ids() -> None:
    first, again = decide(None, accepted(), TOPICS), decide(None, accepted(), TOPICS)
    assert [m.value["id"] for m in first.outgoing] == [m.value["id"] for m in again.outgoing]
    ids = [m.value["data"].get("notification_id") for m in first.outgoing]
    assert ids[1] == [m.value["data"].get("notification_id") for m in again.outgoing][1]


def test_a_second_accepted_event_for_a_known_order_changes_nothing() -> None:
    order = decide(None, accepted(), TOPICS).order
    resent = accepted().model_copy(update={"id": "evt-other"})
    assert decide(order, resent, TOPICS).outgoing == []


def _loaded(event_type: str, **data: Any) -> dict[str, Any]:
    message = examples.load("orders.v1", event_type)
    message["data"].update(data)
    return message


def test_a_shop_delay_tells_why_and_until_when() -> None:
    order = decide(None, accepted(), TOPICS).order
    delayed = OrderDelayed.model_validate(_loaded("order.delayed"))
    decision = decide(order, delayed, TOPICS)

    assert decision.order is not None and decision.order.status == OrderStatus.DELAYED
    notice = NotificationRequested.model_validate(decision.outgoing[1].value).data.notice
    assert notice.kind == "order_delayed"
    assert notice.reason == delayed.data.reason
    assert notice.new_expected_delivery == delayed.data.new_promised_delivery


def test_a_cancellation_is_announced_once() -> None:
    order = decide(None, accepted(), TOPICS).order
    cancelled = OrderCancelled.model_validate(_loaded("order.cancelled"))
    first = decide(order, cancelled, TOPICS)
    assert [m.topic for m in first.outgoing] == ["status", "requests"]
    assert decide(first.order, cancelled.model_copy(update={"id": "evt-x"}), TOPICS).outgoing == []
