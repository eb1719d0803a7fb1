"""Review requests: the timer set as an order arrives, kept durably, cancelled by a return or an
erasure, and fired once when the clock reaches it."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.batch import Received
from orderpulse_kit.database import connect
from orderpulse_kit.review_requests import ReviewRequests
from orderpulse_returns.lifecycle import ask_for_review, received, returned
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.service import Returns, ReturnsInput
from orderpulse_returns.shops import ReturnsPolicy
from orderpulse_returns.store import SqlReturnsStore
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested, ReviewRequestNotice
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.status import OrderStatusChanged

from ..conftest import PRAGUE, policy

INPUT: TypeAdapter[ReturnsInput] = TypeAdapter(ReturnsInput)
LINK = "https://obchody.heureka.cz/kvetinac-cz/recenze/"
ASKING = ReviewRequests(enabled=True, days_after=5, link=LINK)
DUE = datetime(2026, 11, 11, 10, tzinfo=PRAGUE)
"""Delivered on Friday 6 November at 10:21 Prague time: 5 days later, at ten."""


def asking(**changes: Any) -> ReturnsPolicy:
    return policy(reviews=ASKING.model_copy(update=changes))


def delivered(*, reviews: bool | None = True, **changes: Any) -> dict[str, Any]:
    """ord-10045 delivered (the example), its customer consenting to review requests or not."""
    event = examples.load("order-status.v1", "order.status_changed")
    if reviews is not None:
        event["data"]["customer"]["consent"]["reviews"] = reviews
    event.update(changes)
    return event


def arrival(**kwargs: Any) -> OrderStatusChanged:
    return OrderStatusChanged.model_validate(delivered(**kwargs))


def return_requested() -> ReturnEvent:
    return TypeAdapter(ReturnEvent).validate_python(examples.load("returns.v1", "return.requested"))


def test_an_arrival_sets_the_timer_n_days_later_at_ten_shop_time() -> None:
    decision = received(arrival(), asking())
    assert decision.order.review_at == DUE
    assert [r.data.notice.kind for r in decision.requests] == ["return_instructions"]


@pytest.mark.parametrize(
    ("consent", "shop"),
    [(False, asking()), (None, asking()), (True, policy()), (True, asking(enabled=False))],
    ids=["consent-refused", "consent-not-given", "shop-default-off", "shop-turned-off"],
)
def test_no_timer_without_consent_or_while_the_shop_does_not_ask(
    consent: bool | None, shop: ReturnsPolicy
) -> None:
    assert received(arrival(reviews=consent), shop).order.review_at is None


def test_no_timer_for_a_customer_without_an_email() -> None:
    event = delivered()
    event["data"]["customer"]["email"] = None
    order = received(OrderStatusChanged.model_validate(event), asking()).order
    assert order.review_at is None


def test_the_request_goes_once_when_due_with_the_shop_s_link() -> None:
    order = received(arrival(), asking()).order
    assert ask_for_review(order, DUE - timedelta(minutes=1), asking()).requests == []

    decision = ask_for_review(order, DUE, asking())
    [request] = decision.requests
    notice = request.data.notice
    assert isinstance(notice, ReviewRequestNotice)
    assert (notice.received, str(notice.review_url)) == ("delivered", LINK)
    assert notice.received_at == arrival().time
    assert request.data.cause_id == arrival().id
    assert request.data.customer.consent.reviews is True
    assert decision.order.review_at is None
    assert ask_for_review(decision.order, DUE + timedelta(days=1), asking()).requests == []


def test_a_return_requested_before_it_is_due_cancels_it() -> None:
    order = received(arrival(), asking()).order
    order = returned(order, return_requested(), asking()).order
    assert order.review_at is None
    assert ask_for_review(order, DUE, asking()).requests == []


def test_a_return_heard_before_the_arrival_means_no_timer_at_all() -> None:
    order = received(arrival(), asking()).order
    # A timer left by an older version on an order with a return: still never asked.
    with_return = returned(order, return_requested(), asking()).order
    assert (
        ask_for_review(with_return.model_copy(update={"review_at": DUE}), DUE, asking()).requests
        == []
    )


def test_a_shop_that_stopped_asking_meanwhile_asks_no_more() -> None:
    order = received(arrival(), asking()).order
    decision = ask_for_review(order, DUE, asking(enabled=False, link=None))
    assert (decision.requests, decision.order.review_at) == ([], None)


def test_a_request_woken_more_than_a_week_late_is_dropped() -> None:
    order = received(arrival(), asking()).order
    decision = ask_for_review(order, DUE + timedelta(days=7, seconds=1), asking())
    assert (decision.requests, decision.order.review_at) == ([], None)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now


class Service:
    """The returns service on SQLite with a clock the test moves."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.clock = Clock(datetime(2026, 11, 6, 12, tzinfo=PRAGUE))
        self.requests: list[NotificationRequested] = []
        self.returns = Returns(
            SqlReturnsStore(engine),
            shops={"kvetinac-cz"},
            policies={"kvetinac-cz": asking()},
            publish=self.publish,
            dead_letter=self.dead_letter,
            now=lambda: self.clock.now,
        )

    async def publish(self, requests: Sequence[NotificationRequested]) -> None:
        self.requests += requests

    async def dead_letter(self, record: Any, reason: str) -> None:
        raise AssertionError(reason)

    async def poll(self, *events: dict[str, Any]) -> None:
        record = ConsumerRecord("t", 0, 0, 0, 0, None, None, None, 0, 0, [])
        await self.returns.handle([Received(record, INPUT.validate_python(e)) for e in events])

    def reviews(self) -> list[NotificationRequested]:
        return [r for r in self.requests if r.data.notice.kind == "review_request"]


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}")
    await MIGRATIONS.upgrade(engine)
    yield Service(engine)
    await engine.dispose()


async def test_the_stored_timer_fires_once_when_the_clock_reaches_it(service: Service) -> None:
    await service.poll(delivered())
    service.clock.now = DUE - timedelta(seconds=1)
    assert await service.returns.remind_due() == 0
    service.clock.now = DUE
    assert await service.returns.remind_due() == 1
    service.clock.now = DUE + timedelta(days=1)
    assert await service.returns.remind_due() == 0
    [review] = service.reviews()
    assert review.time == DUE


async def test_a_return_requested_in_between_cancels_the_stored_timer(service: Service) -> None:
    await service.poll(delivered())
    await service.poll(examples.load("returns.v1", "return.requested"))
    service.clock.now = DUE
    await service.returns.remind_due()
    assert service.reviews() == []


async def test_an_erasure_cancels_the_stored_timer(service: Service) -> None:
    await service.poll(delivered())
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    erasure["data"] = {"order_ids": ["ord-10045"]}
    await service.poll(erasure)
    service.clock.now = DUE
    assert await service.returns.remind_due() == 0
    assert service.reviews() == []
