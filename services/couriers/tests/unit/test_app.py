"""The couriers service's wiring, on the in-memory broker and SQLite: dispatches and orders in,
InPost webhooks in, `shipments.v1` out."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from faststream import FastStream, TestApp
from faststream.asgi import AsgiFastStream
from faststream.kafka import TestKafkaBroker
from prometheus_client import REGISTRY

from orderpulse_couriers.app import build_app
from orderpulse_couriers.http import INPOST_PATH
from orderpulse_couriers.parcels import SOURCE
from orderpulse_couriers.settings import Settings
from orderpulse_devkit.peers import TEST_API_PASSWORD, PacketaFake
from orderpulse_kit.producer import BrokerProducer
from orderpulse_schemas import examples

from ..conftest import fixture, post

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TRACKING = "602677439331630337653846"
POINT: dict[str, Any] = {
    "id": "KRA010M",
    "name": "Paczkomat KRA010M",
    "address": {"street": "Dietla 54", "city": "Kraków", "postal_code": "31-039", "country": "PL"},
    "kind": "locker",
}


def webhook(name: str, **changes: str) -> bytes:
    """An InPost webhook fixture; `event_ts` and the payload's fields changed."""
    body = json.loads(fixture("inpost", name))
    if "event_ts" in changes:
        body["event_ts"] = changes.pop("event_ts")
    body["payload"].update(changes)
    return json.dumps(body).encode()


READY = webhook("webhook_ready_to_pickup.json")
DELIVERED = webhook("webhook_delivered.json", event_ts="2026-03-05 14:12:09 +0100")


class Wire:
    """The app on the in-memory broker, with the events it published."""

    def __init__(self, app: FastStream, settings: Settings) -> None:
        assert app.broker is not None
        self.app, self.broker, self.settings = app, app.broker, settings
        self.published: list[dict[str, Any]] = []
        self.heard: list[dict[str, Any]] = []
        """Everything on shipments.v1, ours and the shop's."""
        self.news = asyncio.Event()
        """Set when the app publishes."""

    async def published_at_least(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.published) < count:
                self.news.clear()
                await self.news.wait()

    async def dispatched(
        self, carrier: str = "inpost", tracking_number: str = TRACKING, **data: Any
    ) -> None:
        event = examples.load("shipments.v1", "shipment.dispatched")
        event["data"].update(carrier=carrier, tracking_number=tracking_number, **data)
        await self.broker.publish(event, topic=self.settings.shipments_topic, key=b"ord-10045")

    async def accepted(self) -> None:
        event = examples.load("orders.v1", "order.accepted")
        event["subject"] = "ord-10045"
        event["data"]["delivery"] = {"method": "pickup_point", "point": POINT}
        await self.broker.publish(event, topic=self.settings.orders_topic, key=b"ord-10045")

    async def webhook(self, body: bytes, **client: Any) -> tuple[int, Any]:
        assert isinstance(self.app, AsgiFastStream)
        status, content = await post(self.app, INPOST_PATH, body, **client)
        return status, json.loads(content) if content.startswith(b"{") else content

    def types(self) -> list[str]:
        return [event["type"] for event in self.published]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'couriers.db'}")


@pytest.fixture
async def wire(settings: Settings) -> AsyncIterator[Wire]:
    async with wired(settings) as wire:
        yield wire


@contextlib.asynccontextmanager
async def wired(settings: Settings) -> AsyncIterator[Wire]:
    app = build_app(settings, now=lambda: NOW, producer=BrokerProducer)
    assert app.broker is not None
    wire = Wire(app, settings)

    @app.broker.subscriber(settings.shipments_topic, group_id="test")
    async def shipments(event: dict[str, Any]) -> None:
        wire.heard.append(event)
        if event["source"].startswith(SOURCE):
            wire.published.append(event)
            wire.news.set()

    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield wire


def counted(name: str) -> float:
    return (
        REGISTRY.get_sample_value(f"orderpulse_couriers_{name}_total", {"carrier": "inpost"}) or 0
    )


async def test_a_followed_locker_parcel_s_webhooks_publish_once_each(wire: Wire) -> None:
    await wire.accepted()
    await wire.dispatched()

    assert await wire.webhook(READY) == (200, {"published": 1, "unfollowed": 0})
    assert await wire.webhook(DELIVERED) == (200, {"published": 1, "unfollowed": 0})

    assert wire.types() == ["shipment.at_pickup_point", "shipment.picked_up"]
    waiting, collected = wire.published
    # ShipX sends neither the code (InPost texts it) nor the deadline (48 hours in a Paczkomat)
    assert "pickup_code" not in waiting["data"]
    assert waiting["data"]["stored_until"] == "2026-03-05T10:05:31+01:00"
    assert collected["subject"] == "ord-10045"
    assert collected["shopid"] == "kvetinac-cz"
    assert collected["data"] == {"carrier": "inpost", "tracking_number": TRACKING}
    assert collected["time"] == "2026-03-05T14:12:09+01:00"


async def test_a_replayed_webhook_publishes_nothing_new(wire: Wire) -> None:
    await wire.dispatched()
    assert (await wire.webhook(DELIVERED))[0] == 200
    assert await wire.webhook(DELIVERED) == (200, {"published": 0, "unfollowed": 0})
    assert await wire.webhook(READY) == (200, {"published": 0, "unfollowed": 0})  # finished
    assert wire.types() == ["shipment.delivered"]


async def test_statuses_publish_in_turn_and_a_redispatch_follows_nothing_twice(
    wire: Wire,
) -> None:
    await wire.dispatched()
    await wire.dispatched(tracking_url="https://inpost.pl/sledzenie-przesylek?number=1")
    sent = webhook("webhook_ready_to_pickup.json", status="sent_from_source_branch")
    returned = webhook("webhook_returned_to_sender.json", tracking_number=TRACKING)

    assert (await wire.webhook(sent))[1]["published"] == 1
    assert (await wire.webhook(returned))[1]["published"] == 1
    assert wire.types() == ["shipment.in_transit", "shipment.returned_to_sender"]


async def test_a_webhook_from_outside_shipx_s_range_is_refused(wire: Wire) -> None:
    await wire.dispatched()
    assert (await wire.webhook(DELIVERED, client=("203.0.113.9", 5555)))[0] == 403
    assert wire.published == []
    # the parcel was not marked as heard: ShipX's own delivery still publishes
    assert (await wire.webhook(DELIVERED))[1]["published"] == 1


async def test_an_unknown_status_is_counted_and_answered(wire: Wire) -> None:
    await wire.dispatched()
    before = counted("unknown_status_codes")
    unknown = webhook("webhook_ready_to_pickup.json", status="teleported_to_receiver")

    assert await wire.webhook(unknown) == (200, {"published": 0, "unfollowed": 0})
    assert counted("unknown_status_codes") == before + 1
    assert wire.published == []


async def test_a_parcel_nobody_dispatched_is_counted_and_answered(wire: Wire) -> None:
    before = counted("unfollowed_reports")
    assert await wire.webhook(DELIVERED) == (200, {"published": 0, "unfollowed": 1})
    assert counted("unfollowed_reports") == before + 1
    assert wire.published == []


@pytest.mark.parametrize("body", [b"not json", b'{"event": "shipment_status_changed"}'])
async def test_an_unreadable_body_is_a_bad_request_that_quotes_nothing(
    wire: Wire, body: bytes
) -> None:
    status, answer = await wire.webhook(body)
    assert status == 400
    assert answer["error"].startswith("InPost ")
    assert body.decode() not in answer["error"]


async def test_other_carriers_and_our_own_events_are_not_followed(wire: Wire) -> None:
    await wire.dispatched(carrier="fedex")
    assert await wire.webhook(DELIVERED) == (200, {"published": 0, "unfollowed": 1})
    own = examples.load("shipments.v1", "shipment.dispatched")
    own["source"] = f"{SOURCE}/inpost"
    own["data"].update(carrier="inpost", tracking_number=TRACKING)
    await wire.broker.publish(own, topic=wire.settings.shipments_topic, key=b"ord-10045")
    assert await wire.webhook(DELIVERED) == (200, {"published": 0, "unfollowed": 1})


async def test_trusting_any_sender_is_said_loudly_and_takes_any_address(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'trusting.db'}",
        inpost_trust_any_sender=True,
    )
    app = build_app(settings, now=lambda: NOW, producer=BrokerProducer)
    assert app.broker is not None
    assert "COURIERS_INPOST_TRUST_ANY_SENDER is on" in caplog.text
    assert caplog.records[-1].levelname == "WARNING"

    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        answer = await post(app, INPOST_PATH, DELIVERED, client=("203.0.113.9", 5555))
    assert (answer[0], json.loads(answer[1])) == (200, {"published": 0, "unfollowed": 1})


async def test_packeta_parcels_are_polled_for_the_shops_with_a_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with PacketaFake() as packeta, caplog.at_level(logging.INFO, "orderpulse_couriers.app"):
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{tmp_path / 'polled.db'}",
            packeta_api_url=packeta.api_url,
            packeta_api_passwords={"kvetinac-cz": TEST_API_PASSWORD},
            packeta_poll_seconds=0.05,
        )
        arrived = datetime(2026, 3, 9, 16, 40, tzinfo=UTC)
        packeta.add_status("2045718836", 2, arrived, branch_id="1002")
        packeta.add_status(
            "2045718836",
            5,
            arrived.replace(day=10, hour=8),
            branch_id="KRA010M",
            stored_until=date(2026, 3, 17),
        )
        async with wired(settings) as wire:
            await wire.accepted()
            await wire.dispatched(carrier="zasilkovna", tracking_number="Z 204 5718 836")
            await wire.published_at_least(2)
            await asyncio.sleep(0.3)  # rounds go on: nothing twice

    assert wire.types() == ["shipment.in_transit", "shipment.at_pickup_point"]
    waiting = wire.published[1]["data"]
    assert waiting["point"]["id"] == "KRA010M"
    assert waiting["stored_until"] == "2026-03-17T23:59:59+01:00"
    assert ("packetStatus", "2045718836") in packeta.requests
    assert "Packeta is polled for 1 shop(s): kvetinac-cz" in caplog.text
    assert TEST_API_PASSWORD not in caplog.text


def test_without_passwords_packeta_is_not_polled_and_start_up_says_so(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    build_app(settings, now=lambda: NOW, producer=BrokerProducer)

    assert "Packeta is not polled: COURIERS_PACKETA_API_PASSWORDS names no shop" in caplog.text


def test_passwords_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURIERS_PACKETA_API_PASSWORDS", '{"kvetinac-cz": "p4ss"}')

    passwords = Settings().packeta_api_passwords

    assert {shop: p.get_secret_value() for shop, p in passwords.items()} == {"kvetinac-cz": "p4ss"}
    assert "p4ss" not in repr(Settings())
