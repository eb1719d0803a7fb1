"""Each outcome names its request's event id and the request's cause, so an integrator joins an
outcome to what the customer was told about without knowing how our ids are derived."""

from typing import Any

from orderpulse_notifier.receipts import Receipt, ReceiptStatus
from orderpulse_notifier.shops import Shop
from orderpulse_schemas.outcomes import Channel

from ..conftest import PETR, erasure, notification
from .test_service import world


async def test_sent_and_repeated_outcomes_name_the_request_and_its_cause(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    request = notification("order_dispatched")
    assert request.data.cause_id is not None

    first, again = await w.notifier.handle(request), await w.notifier.handle(request)

    links = {(o.data.request_id, o.data.cause_id) for o in first.outcomes + again.outcomes}
    assert links == {(request.id, request.data.cause_id)}
    assert len(first.outcomes) == 2


async def test_a_providers_report_on_a_kept_request_names_them_too(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop, sms_receipts=True, channels={"out_for_delivery": [Channel.SMS]})
    request = notification("out_for_delivery")
    await w.notifier.handle(request)

    handled = await w.notifier.on_receipt(
        Receipt("scripted", "msg-1", ReceiptStatus.UNDELIVERED, "twilio error 30003")
    )

    [failed, fallback] = handled.outcomes
    assert (failed.type, fallback.type) == ("notification.failed", "notification.sent")
    for outcome in (failed, fallback):
        assert (outcome.data.request_id, outcome.data.cause_id) == (
            request.id,
            request.data.cause_id,
        )


async def test_an_erased_customers_deferred_text_no_longer_names_what_was_forgotten(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop, channels={"out_for_delivery": [Channel.SMS]})
    w.clock.now = w.clock.now.replace(hour=21, minute=30)  # 22:30 in Prague: the text waits
    await w.notifier.handle(notification("out_for_delivery"))

    _, handled = await w.notifier.erase(erasure(email=PETR["email"]))

    [failed] = handled.outcomes
    assert failed.type == "notification.failed"
    assert (failed.data.request_id, failed.data.cause_id) == (None, None)
