"""What the customer hears about returning an order, decided without I/O."""

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from pydantic import TypeAdapter

from orderpulse_returns.lifecycle import (
    Decision,
    ReturnsOrder,
    received,
    remind,
    returned,
)
from orderpulse_schemas import examples
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.status import OrderStatusChanged

from ..conftest import PRAGUE, policy

RETURN_EVENT: TypeAdapter[ReturnEvent] = TypeAdapter(ReturnEvent)
POINT = examples.load("shipments.v1", "shipment.at_pickup_point")["data"]["point"]
STEPS = ["requested", "label_issued", "received", "refunded"]


def arrival(status: str = "delivered", **data: Any) -> OrderStatusChanged:
    """ord-10045 delivered on Friday 6 November 2026 (the example), changed as given."""
    event = examples.load("order-status.v1", "order.status_changed")
    event["data"].update(status=status, **data)
    return OrderStatusChanged.model_validate(event)


def step(name: str, **changes: Any) -> ReturnEvent:
    """The example return event `return.<name>`, its envelope changed as given."""
    event = examples.load("returns.v1", f"return.{name}")
    event.update(changes)
    return RETURN_EVENT.validate_python(event)


def kinds(decision: Decision) -> list[str]:
    return [r.data.notice.kind for r in decision.requests]


def run_through(order: ReturnsOrder, *names: str) -> tuple[ReturnsOrder, list[str]]:
    """Apply the return steps in turn; the order after them and the kinds announced."""
    said = []
    for name in names:
        decision = returned(order, step(name), policy())
        order, said = decision.order, said + kinds(decision)
    return order, said


def test_an_arrival_brings_the_instructions_with_the_deadline() -> None:
    decision = received(arrival(), policy())

    [request] = decision.requests
    notice = request.data.notice
    assert notice.kind == "return_instructions"
    assert notice.withdrawal_deadline == date(2026, 11, 20)
    assert notice.received is None  # a message of its own, after the tracker's "delivered"
    assert request.data.customer.first_name == "Petr"
    assert request.data.order_number == "10045"
    assert (request.subject, request.shopid) == ("ord-10045", "kvetinac-cz")
    assert decision.order.withdrawal_deadline == date(2026, 11, 20)


def test_the_ids_are_derived_from_the_order_so_a_replay_asks_for_the_same_message() -> None:
    first, again = received(arrival(), policy()), received(arrival(), policy())
    assert first.requests[0].data.notification_id == again.requests[0].data.notification_id
    assert first.requests[0].id == again.requests[0].id
    [acknowledgement] = returned(first.order, step("requested"), policy()).requests
    assert acknowledgement.data.notification_id != first.requests[0].data.notification_id


@pytest.mark.parametrize("status", ["delivered", "picked_up"])
def test_a_shop_that_merges_says_it_in_the_arrival_message(status: str) -> None:
    [request] = received(arrival(status), policy(merge_with_delivered=True)).requests
    assert request.data.notice.received == status


def test_the_point_the_order_was_collected_from_is_offered_for_the_drop_off() -> None:
    collected = {"carrier": "zasilkovna", "point": POINT}
    event = arrival("picked_up", collected_from=collected)

    any_carrier = received(event, policy()).requests[0].data.notice
    assert any_carrier.dropoff_point is not None
    assert any_carrier.dropoff_point.name.startswith("Praha 2, Vinohradská 48")
    zasilkovna = received(event, policy(dropoff_carriers=frozenset({"zasilkovna"})))
    assert zasilkovna.requests[0].data.notice.dropoff_point is not None

    other_carrier = received(event, policy(dropoff_carriers=frozenset({"ppl"})))
    assert other_carrier.requests[0].data.notice.dropoff_point is None
    no_dropoff = received(event, policy(dropoff_carriers=None))
    assert no_dropoff.requests[0].data.notice.dropoff_point is None


def test_each_request_names_the_event_that_caused_it() -> None:
    """The notifier copies it into the outcomes: an integrator joins them to the shop's event."""
    delivered, requested = arrival(), step("requested")
    first = received(delivered, policy())
    [acknowledgement] = returned(first.order, requested, policy()).requests
    assert (first.requests[0].data.cause_id, acknowledgement.data.cause_id) == (
        delivered.id,
        requested.id,
    )


def test_a_whole_return_is_one_message_per_step() -> None:
    order = received(arrival(), policy()).order
    order, said = run_through(order, *STEPS)
    assert said == ["return_requested", "return_label_issued", "return_received", "return_refunded"]
    assert order.steps == {"ret-10045-1": [f"return.{name}" for name in STEPS]}


def test_the_acknowledgement_states_when_the_customer_withdrew_and_the_refund_date() -> None:
    order = received(arrival(), policy()).order
    [request] = returned(order, step("requested"), policy()).requests
    notice = request.data.notice
    assert notice.kind == "return_requested"
    assert notice.requested_at == datetime(2026, 11, 7, 19, 5, 33, tzinfo=PRAGUE)
    assert notice.refund_by == date(2026, 11, 21)
    assert notice.return_code == "Z-7KQ4-22"
    assert [item.name for item in notice.items] == ["Keramický květináč Ø 30 cm"]


def test_the_same_step_again_says_nothing() -> None:
    order = received(arrival(), policy()).order
    order, _ = run_through(order, "requested", "received")
    again = returned(order, step("received", id="evt-shop-resent-received"), policy())
    assert again.requests == []


def test_a_late_step_is_recorded_but_not_announced() -> None:
    order = received(arrival(), policy()).order
    order, said = run_through(order, "requested", "received", "label_issued")
    assert said == ["return_requested", "return_received"]
    assert order.steps["ret-10045-1"][-1] == "return.label_issued"


def test_the_withdrawal_is_acknowledged_even_when_it_is_heard_late() -> None:
    order = received(arrival(), policy()).order
    _, said = run_through(order, "label_issued", "requested")
    assert said == ["return_label_issued", "return_requested"]


def test_a_rejection_gives_the_reason_and_the_next_step() -> None:
    order = received(arrival(), policy()).order
    [request] = returned(order, step("rejected"), policy()).requests
    assert request.data.notice.kind == "return_rejected"
    assert request.data.notice.reason.startswith("Lhůta 14 dnů")
    assert request.data.notice.next_step is not None


def test_an_erased_customer_hears_nothing_but_the_steps_are_kept() -> None:
    order = received(arrival(), policy()).order.model_copy(update={"customer": None})
    decision = returned(order, step("requested"), policy())
    assert decision.requests == []
    assert decision.order.steps == {"ret-10045-1": ["return.requested"]}


def test_the_reminder_goes_out_at_nine_some_days_before_the_deadline() -> None:
    shop = policy(reminder_days_before=3)
    order = received(arrival(), shop).order
    assert order.remind_at == datetime(2026, 11, 17, 9, 0, tzinfo=PRAGUE)

    early = remind(order, order.remind_at - timedelta(minutes=1), shop)
    assert early.requests == [] and early.order.remind_at is not None

    due = remind(order, order.remind_at, shop)
    [request] = due.requests
    assert request.data.notice.kind == "return_window_closing"
    assert request.data.notice.withdrawal_deadline == date(2026, 11, 20)
    assert due.order.remind_at is None
    assert remind(due.order, order.remind_at + timedelta(hours=1), shop).requests == []


def test_no_reminder_by_default_nor_once_a_return_is_requested() -> None:
    assert received(arrival(), policy()).order.remind_at is None
    shop = policy(reminder_days_before=3)
    order = received(arrival(), shop).order
    withdrawn = returned(order, step("requested"), shop).order
    assert withdrawn.remind_at is None


def test_a_reminder_woken_after_the_deadline_stays_silent() -> None:
    shop = policy(reminder_days_before=3)
    order = received(arrival(), shop).order
    after = datetime(2026, 11, 21, 0, 5, tzinfo=PRAGUE)
    decision = remind(order, after, shop)
    assert decision.requests == [] and decision.order.remind_at is None
    on_the_last_day = remind(order, datetime(2026, 11, 20, 23, 0, tzinfo=PRAGUE), shop)
    assert kinds(on_the_last_day) == ["return_window_closing"]


def received_notice(order: ReturnsOrder, **changes: Any) -> Any:
    """The notice that the goods of ret-10045-1 came back, the event's envelope changed as given."""
    [request] = returned(order, step("received", **changes), policy()).requests
    assert request.data.notice.kind == "return_received"
    return request.data.notice


def test_the_receipt_names_the_refund_date_counted_from_the_withdrawal() -> None:
    """Withdrawn on 7 November, the goods back on the 10th: the 14 days end on the 21st."""
    order, _ = run_through(received(arrival(), policy()).order, "requested")
    assert order.requested_at == {"ret-10045-1": datetime(2026, 11, 7, 19, 5, 33, tzinfo=PRAGUE)}
    assert received_notice(order).refund_by == date(2026, 11, 21)


def test_goods_back_after_the_14_days_are_refunded_on_the_day_they_arrive() -> None:
    """Received at 00:30 on the 25th in Prague (the 24th in UTC): due that day, the shop's."""
    order, _ = run_through(received(arrival(), policy()).order, "requested")
    late = received_notice(order, time="2026-11-24T23:30:00Z")
    assert late.refund_by == date(2026, 11, 25)
    on_the_last_day = received_notice(order, time="2026-11-21T10:00:00Z")
    assert on_the_last_day.refund_by == date(2026, 11, 21)


def test_a_receipt_of_a_return_never_requested_names_no_date() -> None:
    order = received(arrival(), policy()).order
    assert received_notice(order).refund_by is None
    assert returned(order, step("received"), policy()).order.requested_at == {}


def test_a_request_heard_again_keeps_the_first_withdrawal_time() -> None:
    order, _ = run_through(received(arrival(), policy()).order, "requested")
    resent = step("requested", id="evt-resent", time="2026-11-20T09:00:00Z")
    order = returned(order, resent, policy()).order
    assert received_notice(order).refund_by == date(2026, 11, 21)


def test_a_state_saved_before_withdrawal_times_were_kept_still_loads() -> None:
    order, _ = run_through(received(arrival(), policy()).order, "requested")
    saved = order.model_dump(mode="json", exclude={"requested_at"})
    old = ReturnsOrder.model_validate(saved)
    assert old.steps == order.steps and old.requested_at == {}
    assert received_notice(old).refund_by is None
