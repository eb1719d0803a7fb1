"""Every example is valid, named after its type and round-trips; together they cover all."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from orderpulse_schemas import ALL_TOPICS, NOTIFICATIONS, Topic, examples
from orderpulse_schemas.catalogue import event_models, notice_models
from orderpulse_schemas.envelope import CloudEvent
from orderpulse_schemas.notifications import NotificationRequested

EXAMPLES = list(examples.iter_examples())
PUBLISHED = datetime(2026, 12, 3, tzinfo=UTC)
"""When the stories were last re-dated: every event of them had happened by then."""


def expected_names(topic: Topic) -> set[str]:
    """The example files a topic must have: one per type, on notifications.v1 one per kind."""
    if topic is NOTIFICATIONS:
        return {f"notification.requested.{kind}" for kind in notice_models()}
    return set(event_models(topic))


def contained(part: Any, whole: Any) -> bool:
    """Whether every value of `part` is in `whole` (which may hold more: filled-in defaults)."""
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            key in whole and contained(value, whole[key]) for key, value in part.items()
        )
    if isinstance(part, list):
        return (
            isinstance(whole, list) and len(part) == len(whole) and all(map(contained, part, whole))
        )
    return bool(part == whole)


@pytest.mark.parametrize(
    ("topic", "name", "message"), EXAMPLES, ids=[f"{t.name}/{n}" for t, n, _ in EXAMPLES]
)
def test_example_is_valid_named_after_its_type_and_round_trips(
    topic: Topic, name: str, message: dict[str, Any]
) -> None:
    event = topic.events.validate_python(message)

    assert isinstance(event, event_models(topic)[message["type"]])
    if isinstance(event, NotificationRequested):
        assert name == f"{event.type}.{event.data.notice.kind}"
    else:
        assert name == event.type
    dumped = event.model_dump(mode="json", exclude_none=True)
    assert topic.events.validate_python(dumped) == event
    assert topic.events.validate_json(examples.load_bytes(topic, name)) == event
    assert contained(message, dumped), "the example is not in the form the model writes"


@pytest.mark.parametrize("topic", ALL_TOPICS, ids=lambda t: t.name)
def test_every_event_type_has_exactly_one_example(topic: Topic) -> None:
    names = [name for t, name, _ in EXAMPLES if t is topic]

    assert sorted(names) == sorted(expected_names(topic))


def test_examples_directory_holds_only_the_topics() -> None:
    folders = {path.name for path in examples.directory().iterdir()}

    assert folders == {topic.name for topic in ALL_TOPICS}


def test_expected_names_come_from_the_unions() -> None:
    assert expected_names(ALL_TOPICS[0]) == {"order.accepted", "order.delayed", "order.cancelled"}
    assert "notification.requested.pickup_reminder" in expected_names(NOTIFICATIONS)
    assert len(expected_names(NOTIFICATIONS)) == 19


# --- the stories -----------------------------------------------------------------------------


def by_id() -> dict[str, CloudEvent]:
    return {m["id"]: t.events.validate_python(m) for t, _, m in EXAMPLES}


def test_event_ids_are_unique_uuids_and_shop_is_kvetinac() -> None:
    ids = [message["id"] for _, _, message in EXAMPLES]

    assert len(ids) == len(set(ids))
    assert all(str(uuid.UUID(event_id)) == event_id for event_id in ids)
    assert {message["shopid"] for _, _, message in EXAMPLES} == {"kvetinac-cz"}


def test_times_are_utc_in_the_past_and_the_order_journey_is_in_order() -> None:
    """As the services write them, and dated before this contract's stories were published: a
    consumer dead-letters an event dated in the future."""
    journey = [
        ("orders.v1", "order.accepted"),
        ("orders.v1", "order.delayed"),
        ("shipments.v1", "shipment.dispatched"),
        ("shipments.v1", "shipment.in_transit"),
        ("shipments.v1", "shipment.delayed"),
        ("shipments.v1", "shipment.out_for_delivery"),
        ("shipments.v1", "shipment.delivery_failed"),
        ("shipments.v1", "shipment.delivered"),
        ("returns.v1", "return.requested"),
        ("returns.v1", "return.label_issued"),
        ("returns.v1", "return.received"),
        ("returns.v1", "return.refunded"),
        ("returns.v1", "return.rejected"),
        ("erasure-requests.v1", "customer.erasure_requested"),
    ]
    times = [datetime.fromisoformat(examples.load(*step)["time"]) for step in journey]

    assert times == sorted(times)
    assert all(m["time"].endswith("Z") for _, _, m in EXAMPLES)
    assert max(datetime.fromisoformat(m["time"]) for _, _, m in EXAMPLES) < PUBLISHED


def test_order_facts_are_the_same_everywhere() -> None:
    accepted = examples.load("orders.v1", "order.accepted")["data"]
    for topic, name, message in EXAMPLES:
        data = message["data"]
        if topic is NOTIFICATIONS and message["subject"] == "ord-10045":
            assert data["customer"] == accepted["customer"], name
            assert data["order_number"] == accepted["order_number"], name
        if message["subject"].startswith("ord-"):
            assert data.get("order_number", message["subject"][4:]) == message["subject"][4:]
        if topic.name == "shipments.v1" and message["subject"] == "ord-10045":
            assert data["tracking_number"] == "40512345678", name


def test_notifications_follow_their_causes_and_outcomes_join_both() -> None:
    events = by_id()
    requested = {m["data"]["notification_id"]: m for t, _, m in EXAMPLES if t is NOTIFICATIONS}
    for message in requested.values():
        cause = events[message["data"]["cause_id"]]
        assert cause.subject == message["subject"]
        assert cause.time < datetime.fromisoformat(message["time"])
    for topic, _, message in EXAMPLES:
        if topic.name == "notification-outcomes.v1":
            request = requested[message["data"]["notification_id"]]
            assert message["data"]["request_id"] == request["id"]
            assert message["data"]["cause_id"] == request["data"]["cause_id"]
            assert request["subject"] == message["subject"]
            assert datetime.fromisoformat(request["time"]) < datetime.fromisoformat(message["time"])


def test_erasure_names_orders_of_the_stories() -> None:
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    subjects = {message["subject"] for _, _, message in EXAMPLES}

    assert set(erasure["data"]["order_ids"]) <= subjects
