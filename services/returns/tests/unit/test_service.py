"""The returns service per poll: one read, requests acknowledged together, one write."""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.batch import Received
from orderpulse_kit.database import connect
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.service import Returns, ReturnsInput
from orderpulse_returns.store import ConcurrentUpdate, Effects, Loaded, SqlReturnsStore
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested

from ..conftest import policy

INPUT: TypeAdapter[ReturnsInput] = TypeAdapter(ReturnsInput)
NOW = datetime.fromisoformat("2026-11-30T12:00:00+01:00")


class CountingStore(SqlReturnsStore):
    """The SQLite store, counting its reads and writes; `rival` writes just before the next one."""

    loads = applies = 0
    rival: Effects | None = None

    async def load(self, *args: Any) -> Loaded:
        self.loads += 1
        return await super().load(*args)

    async def apply(self, effects: Effects) -> None:
        self.applies += 1
        if self.rival is not None:
            rival, self.rival = self.rival, None
            await super().apply(rival)
        await super().apply(effects)


class Service:
    def __init__(self, store: CountingStore) -> None:
        self.store = store
        self.requests: list[NotificationRequested] = []
        self.dead: list[tuple[Any, str]] = []
        self.returns = Returns(
            store,
            shops={"kvetinac-cz", "no-returns"},
            policies={"kvetinac-cz": policy()},
            publish=self.publish,
            dead_letter=self.dead_letter,
            now=lambda: NOW,
        )

    async def publish(self, requests: Sequence[NotificationRequested]) -> None:
        self.requests += requests

    async def dead_letter(self, record: Any, reason: str) -> None:
        self.dead.append((record, reason))

    async def poll(self, *events: dict[str, Any]) -> None:
        received = [
            Received(
                ConsumerRecord("t", 0, n, 0, 0, None, None, None, 0, 0, []),
                INPUT.validate_python(e),
            )
            for n, e in enumerate(events)
        ]
        await self.returns.handle(received)

    def kinds(self, order: str = "ord-10045") -> list[str]:
        return [r.data.notice.kind for r in self.requests if r.subject == order]


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = connect(f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}")
    await MIGRATIONS.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def service(engine: AsyncEngine) -> Service:
    return Service(CountingStore(engine))


def delivered(order: str = "ord-10045", **changes: Any) -> dict[str, Any]:
    event = examples.load("order-status.v1", "order.status_changed")
    event.update(subject=order, id=f"evt-{order}-delivered", **changes)
    return event


def dispatched(order: str = "ord-10045") -> dict[str, Any]:
    event = delivered(order)
    event.update(id=f"evt-{order}-dispatched")
    event["data"]["status"] = "dispatched"
    return event


def step(name: str, order: str = "ord-10045", **changes: Any) -> dict[str, Any]:
    event = examples.load("returns.v1", f"return.{name}")
    event.update(subject=order, id=f"evt-{order}-{name}", **changes)
    return event


async def test_a_poll_of_many_orders_is_one_read_and_one_write(service: Service) -> None:
    orders = [f"ord-{n}" for n in range(50)]
    await service.poll(
        *(step("requested", o) for o in orders),  # before the arrival: they wait for it
        *(delivered(o) for o in orders),
        *(step("label_issued", o) for o in orders),
        *(step("label_issued", o) for o in orders),  # the shop's producer retried
    )
    assert (service.store.loads, service.store.applies) == (1, 1)
    for order in orders:
        kinds = ["return_instructions", "return_requested", "return_label_issued"]
        assert service.kinds(order) == kinds

    await service.poll(*(step("label_issued", o) for o in orders), delivered(orders[0]))
    assert len(service.requests) == 150


async def test_status_changes_other_than_an_arrival_cost_no_read_nor_write(
    service: Service,
) -> None:
    await service.poll(*(dispatched(f"ord-{n}") for n in range(5)))
    assert (service.store.loads, service.store.applies, service.requests) == (0, 0, [])
    await service.poll(dispatched(), delivered())
    assert (service.store.loads, service.store.applies) == (1, 1)
    assert service.kinds() == ["return_instructions"]


async def test_events_kept_in_one_poll_are_answered_in_a_later_one(service: Service) -> None:
    await service.poll(step("requested"), step("requested"))
    assert service.requests == []
    await service.poll(delivered(), step("label_issued"))
    assert service.kinds() == ["return_instructions", "return_requested", "return_label_issued"]


async def test_an_erasure_applies_in_its_place_in_the_poll(service: Service) -> None:
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    erasure["data"] = {"order_ids": ["ord-10045"]}
    await service.poll(delivered(), erasure, step("requested"))
    assert service.kinds() == ["return_instructions"]


async def test_an_arrival_sent_before_the_customer_s_erasure_is_kept_without_them(
    service: Service,
) -> None:
    """The erasure overtook the tracker's message (a backlog here): nobody is written to, and
    nothing personal is stored. An order delivered after the erasure is the customer's anew."""
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    erasure["time"] = "2026-11-28T08:00:00Z"
    erasure["data"] = {"email": "Petr.Novak@Example.cz"}
    await service.poll(erasure)
    await service.poll(delivered(time="2026-11-27T18:00:00Z"), step("requested"))
    await service.poll(delivered("ord-20001", time="2026-11-30T12:00:00Z"))

    assert service.kinds() == []
    assert service.kinds("ord-20001") == ["return_instructions"]
    loaded = await service.store.load([("kvetinac-cz", "ord-10045")], [])
    assert loaded.orders[("kvetinac-cz", "ord-10045")].customer is None


async def test_a_return_without_a_policy_is_dead_lettered_and_the_rest_goes_on(
    service: Service,
) -> None:
    await service.poll(delivered(), step("requested", shopid="no-returns"), step("requested"))
    [(record, reason)] = service.dead
    assert record.offset == 1
    assert reason.startswith("shop no-returns has no returns policy")
    assert service.kinds() == ["return_instructions", "return_requested"]


async def test_anything_of_a_shop_not_in_the_shops_file_is_dead_lettered_naming_it(
    service: Service,
) -> None:
    await service.poll(delivered(shopid="nowhere"), delivered())
    [(record, reason)] = service.dead
    assert record.offset == 0
    assert reason.startswith("shop nowhere is not in the shops file")
    assert service.kinds() == ["return_instructions"]


async def test_a_poll_another_worker_got_into_is_decided_again(service: Service) -> None:
    await service.poll(delivered())
    before = await service.store.load([("kvetinac-cz", "ord-10045")], [])
    order = before.orders[("kvetinac-cz", "ord-10045")]
    steps = {"ret-10045-1": ["return.requested"]}
    service.store.rival = Effects(
        seen=[("kvetinac-cz", "evt-ord-10045-requested")],
        changed=[order.model_copy(update={"steps": steps, "remind_at": None})],
    )
    await service.poll(step("requested"), step("label_issued"))

    assert service.store.applies == 3  # the first poll, the lost attempt, the one again
    after = await service.store.load([("kvetinac-cz", "ord-10045")], [])
    assert after.orders[("kvetinac-cz", "ord-10045")].steps == {
        "ret-10045-1": ["return.requested", "return.label_issued"]
    }


async def test_a_poll_that_keeps_losing_is_redelivered(engine: AsyncEngine) -> None:
    class Losing(CountingStore):
        async def apply(self, effects: Effects) -> None:
            self.applies += 1
            raise ConcurrentUpdate("another worker again")

    service = Service(Losing(engine))
    with pytest.raises(ConcurrentUpdate):  # the batch loop then rewinds the poll
        await service.poll(delivered())
    assert service.store.applies == 5
