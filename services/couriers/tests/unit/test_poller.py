"""Rounds of polls on SQLite, with a scripted carrier: news is published once and asked about
again soon, silence and failures back off, a final status ends the polling, and a shop without
credentials is never asked."""

import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.poll_queue import SqlPollQueue
from orderpulse_couriers.poller import Poller
from orderpulse_couriers.polling import CarrierRefused, CarrierUnavailable, PollFailed, Schedule
from orderpulse_couriers.reports import Milestone, Report
from orderpulse_couriers.service import Couriers
from orderpulse_couriers.store import Effects, SqlParcelStore
from orderpulse_schemas.envelope import CloudEvent

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PASSWORD = "s3cret-<&>-password"
PACKET = Followed(shop_id="shop", order_id="o-1", carrier="packeta", tracking_number="Z2045718836")
SCHEDULE = Schedule(
    every=timedelta(minutes=30), at_most=timedelta(hours=6), give_up_after=timedelta(days=60)
)


class Carrier:
    """What the carrier answers about each parcel, and who asked."""

    def __init__(self) -> None:
        self.history: dict[str, list[Report]] = {}
        self.failure: PollFailed | None = None
        self.asked: list[tuple[str, str]] = []

    def status(self, code: str, milestone: Milestone, hours: float, **fields: object) -> None:
        report = Report(
            carrier="packeta",
            tracking_number=PACKET.tracking_number,
            code=code,
            milestone=milestone,
            time=T0 + timedelta(hours=hours),
            **fields,  # type: ignore[arg-type]
        )
        self.history.setdefault(PACKET.tracking_number, []).append(report)

    async def track(self, tracking_number: str, password: str) -> list[Report]:
        self.asked.append((tracking_number, password))
        if self.failure is not None:
            raise self.failure
        return list(self.history.get(tracking_number, []))


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(days=3)  # after the carrier's statuses

    def __call__(self) -> datetime:
        return self.now


class Rig:
    def __init__(self, engine: AsyncEngine) -> None:
        store = self.store = SqlParcelStore(engine)
        self.queue = SqlPollQueue(engine)
        self.carrier, self.clock = Carrier(), Clock()
        self.published: list[CloudEvent] = []

        async def publish(events: Sequence[CloudEvent]) -> None:
            self.published.extend(events)

        couriers = Couriers(store, publish=publish, now=self.clock)
        self.poller = Poller(
            "packeta",
            self.carrier,
            {"shop": SecretStr(PASSWORD)},
            queue=self.queue,
            couriers=couriers,
            schedule=SCHEDULE,
            now=self.clock,
        )

    async def follow(self, *parcels: Followed) -> None:
        await self.store.apply(Effects(followed=list(parcels)), self.clock.now)

    async def round_after(self, wait: timedelta) -> int:
        self.clock.now += wait
        return await self.poller.poll_due()

    def types(self) -> list[str]:
        return [event.type for event in self.published]


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'couriers.db'}")
    await MIGRATIONS.upgrade(engine)
    yield Rig(engine)
    await engine.dispose()


def polls(outcome: str) -> float:
    labels = {"carrier": "packeta", "outcome": outcome}
    return REGISTRY.get_sample_value("orderpulse_couriers_polls_total", labels) or 0


async def test_a_packet_is_asked_about_at_once_then_again_after_news(rig: Rig) -> None:
    await rig.follow(PACKET)
    rig.carrier.status("2", Milestone.HANDED_OVER, 1)

    assert await rig.round_after(timedelta(0)) == 1
    assert rig.carrier.asked == [(PACKET.tracking_number, PASSWORD)]
    assert rig.types() == ["shipment.in_transit"]

    assert await rig.round_after(timedelta(minutes=29)) == 0  # not due yet
    rig.carrier.status("4", Milestone.IN_TRANSIT, 2)
    assert await rig.round_after(timedelta(minutes=1)) == 1
    assert rig.types() == ["shipment.in_transit"] * 2  # the first status not again


async def test_silence_backs_off_and_news_brings_the_poll_back(rig: Rig) -> None:
    await rig.follow(PACKET)
    assert await rig.round_after(timedelta(0)) == 1  # nothing yet: next in 1 h

    assert await rig.round_after(timedelta(minutes=59)) == 0
    assert await rig.round_after(timedelta(minutes=1)) == 1  # nothing: next in 2 h
    assert await rig.round_after(timedelta(minutes=119)) == 0
    rig.carrier.status("2", Milestone.HANDED_OVER, 1)
    assert await rig.round_after(timedelta(minutes=1)) == 1  # news: next in 30 min
    assert await rig.round_after(timedelta(minutes=30)) == 1
    assert rig.types() == ["shipment.in_transit"]


async def test_the_final_status_ends_the_polling(rig: Rig) -> None:
    await rig.follow(PACKET)
    rig.carrier.status("2", Milestone.HANDED_OVER, 1)
    rig.carrier.status("10", Milestone.RETURNED_TO_SENDER, 50)

    await rig.round_after(timedelta(0))

    assert rig.types() == ["shipment.in_transit", "shipment.returned_to_sender"]
    assert await rig.round_after(timedelta(days=30)) == 0
    assert len(rig.carrier.asked) == 1


async def test_only_shops_with_credentials_are_polled(rig: Rig) -> None:
    await rig.follow(PACKET, replace(PACKET, shop_id="other", tracking_number="Z1111111111"))

    assert await rig.round_after(timedelta(0)) == 1
    assert [number for number, _ in rig.carrier.asked] == [PACKET.tracking_number]


async def test_failures_publish_nothing_back_off_and_are_told_once_without_secrets(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    parcels = [replace(PACKET, tracking_number=f"Z{n:010}") for n in range(3)]
    await rig.follow(*parcels)
    refused, unavailable = polls("refused"), polls("unavailable")
    rig.carrier.failure = CarrierRefused("IncorrectApiPasswordFault")

    with caplog.at_level(logging.WARNING, logger="orderpulse_couriers.poller"):
        assert await rig.round_after(timedelta(0)) == 3
    assert [r.getMessage() for r in caplog.records] == [
        "packeta refused 3 poll(s) of shop shop's parcels: IncorrectApiPasswordFault"
    ]
    assert PASSWORD not in caplog.text
    assert polls("refused") == refused + 3

    rig.carrier.failure = CarrierUnavailable("Packeta answered HTTP 503")
    assert await rig.round_after(timedelta(minutes=59)) == 0  # backed off like silence
    assert await rig.round_after(timedelta(minutes=1)) == 3
    assert polls("unavailable") == unavailable + 3
    assert rig.published == []

    rig.carrier.failure = None
    rig.carrier.status("2", Milestone.HANDED_OVER, 1)  # about PACKET only
    assert await rig.round_after(timedelta(hours=2)) == 3
    assert rig.types() == []  # PACKET is not among these three


async def test_a_round_cut_short_is_asked_again_when_its_lease_ends(rig: Rig) -> None:
    await rig.follow(PACKET)
    now = rig.clock.now
    taken = await rig.queue.due(
        "packeta", ["shop"], now, limit=10, lease=now + timedelta(minutes=10)
    )
    assert len(taken) == 1  # and then the process died before answering

    assert await rig.round_after(timedelta(minutes=9)) == 0
    assert await rig.round_after(timedelta(minutes=1)) == 1
