"""The Packeta client against devkit's fake of Packeta's API, over real HTTP on 127.0.0.1: what it
reads, when it asks for packetStatus, how it tells a refusal from an outage, how fast it asks."""

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from orderpulse_couriers.carriers.packeta_api import PacketaApi, packet_id_of
from orderpulse_couriers.polling import CarrierRefused, CarrierUnavailable
from orderpulse_couriers.reports import Milestone
from orderpulse_devkit.peers import TEST_API_PASSWORD, PacketaFake

PACKET = "2045718836"
BARCODE = "Z 204 5718 836"
SECRET = "s3cret<&>\"'pass"
PRAGUE = ZoneInfo("Europe/Prague")


@pytest.fixture(scope="module")
def fake() -> Iterator[PacketaFake]:
    with PacketaFake(passwords=(TEST_API_PASSWORD, SECRET)) as peer:
        yield peer


@pytest.fixture
async def session(fake: PacketaFake) -> AsyncIterator[aiohttp.ClientSession]:
    fake.reset()
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(fake: PacketaFake, session: aiohttp.ClientSession) -> PacketaApi:
    return PacketaApi(session, url=fake.api_url, requests_per_second=100, timeout=2)


def journey(fake: PacketaFake, *codes: int, stored_until: date | None = None) -> None:
    for day, code in enumerate(codes, start=2):
        fake.add_status(
            PACKET,
            code,
            datetime(2026, 3, day, 9, tzinfo=UTC),
            branch_id="4321" if code == 5 else "1002",
            stored_until=stored_until if code == 5 else None,
        )


async def test_the_history_is_read_oldest_first(fake: PacketaFake, api: PacketaApi) -> None:
    journey(fake, 1, 2, 4, 5, 7)

    reports = await api.track(BARCODE, TEST_API_PASSWORD)

    assert [(r.code, r.milestone) for r in reports] == [
        ("1", Milestone.IGNORED),
        ("2", Milestone.HANDED_OVER),
        ("4", Milestone.IN_TRANSIT),
        ("5", Milestone.AT_PICKUP_POINT),
        ("7", Milestone.PICKED_UP),
    ]
    assert {r.tracking_number for r in reports} == {BARCODE}  # the caller's key, as given
    assert {r.carrier for r in reports} == {"packeta"}
    assert reports[0].time == datetime(2026, 3, 2, 9, tzinfo=UTC)
    assert reports[0].time.tzinfo == PRAGUE
    assert reports[3].point_id == "4321"
    assert fake.requests == [("packetTracking", PACKET)]  # not ready for pickup: no packetStatus


async def test_ready_for_pickup_asks_packet_status_for_stored_until(
    fake: PacketaFake, api: PacketaApi
) -> None:
    journey(fake, 1, 2, 5, stored_until=date(2026, 3, 11))

    reports = await api.track("Z2045718836", TEST_API_PASSWORD)

    assert fake.requests == [("packetTracking", PACKET), ("packetStatus", PACKET)]
    assert [r.code for r in reports] == ["1", "2", "5"]  # packetStatus's "5" in history's place
    assert reports[-1].milestone is Milestone.AT_PICKUP_POINT
    assert reports[-1].point_id == "4321"
    assert reports[-1].stored_until == datetime(2026, 3, 11, 23, 59, 59, tzinfo=PRAGUE)
    assert reports[-1].tracking_number == "Z2045718836"


async def test_a_known_packet_with_no_status_has_no_reports(
    fake: PacketaFake, api: PacketaApi
) -> None:
    fake.add_packet(PACKET)

    assert await api.track(PACKET, TEST_API_PASSWORD) == []
    assert fake.requests == [("packetTracking", PACKET)]


async def test_a_password_with_markup_characters_is_sent_intact(
    fake: PacketaFake, api: PacketaApi
) -> None:
    journey(fake, 2)

    [report] = await api.track(BARCODE, SECRET)

    assert report.code == "2"


async def test_a_wrong_password_is_refused_and_never_repeated(
    fake: PacketaFake, api: PacketaApi
) -> None:
    journey(fake, 2)
    password = "wrong-password-1234"

    with pytest.raises(CarrierRefused) as refused:
        await api.track(BARCODE, password)

    assert refused.value.fault == "IncorrectApiPasswordFault"
    assert password not in str(refused.value)
    assert password not in repr(refused.value)


async def test_an_unknown_packet_is_refused(api: PacketaApi) -> None:
    with pytest.raises(CarrierRefused) as refused:
        await api.track("Z 999 9999 999", TEST_API_PASSWORD)

    assert refused.value.fault == "PacketIdFault"
    assert "does not exist" not in str(refused.value)  # Packeta's own words are not quoted


@pytest.mark.parametrize("number", ["", "Z", "Z 204 5718", "Z20457188361", "DE1234567890", "Z2O4"])
async def test_a_number_that_is_no_packeta_barcode_is_refused_without_asking(
    fake: PacketaFake, api: PacketaApi, number: str
) -> None:
    with pytest.raises(CarrierRefused) as refused:
        await api.track(number, TEST_API_PASSWORD)

    assert refused.value.fault == "PacketIdFault"
    assert fake.requests == []


@pytest.mark.parametrize(
    ("number", "packet_id"),
    [("Z 204 5718 836", PACKET), ("z2045718836", PACKET), (" 2045718836\n", PACKET)],
)
def test_the_api_wants_the_digits(number: str, packet_id: str) -> None:
    assert packet_id_of(number) == packet_id


async def test_the_request_asks_for_the_digits(fake: PacketaFake, api: PacketaApi) -> None:
    journey(fake, 2)

    await api.track("Z 204 5718 836", TEST_API_PASSWORD)

    assert fake.requests == [("packetTracking", "2045718836")]


@pytest.mark.parametrize("status", [503, 429, 500, 404])
async def test_an_http_error_is_an_outage(fake: PacketaFake, api: PacketaApi, status: int) -> None:
    journey(fake, 2)
    fake.fail_next(status)

    with pytest.raises(CarrierUnavailable, match=f"HTTP {status}"):
        await api.track(BARCODE, TEST_API_PASSWORD)
    assert [r.code for r in await api.track(BARCODE, TEST_API_PASSWORD)] == ["2"]


async def test_a_garbage_body_is_an_outage(fake: PacketaFake, api: PacketaApi) -> None:
    journey(fake, 2)
    fake.fail_next(200)  # 200, with "OK" as its body

    with pytest.raises(CarrierUnavailable, match="not well-formed"):
        await api.track(BARCODE, TEST_API_PASSWORD)


async def test_an_answer_that_is_not_packetas_xml_is_an_outage(
    session: aiohttp.ClientSession,
) -> None:
    async def html(request: web.Request) -> web.Response:
        return web.Response(text="<html><body>Bad gateway</body></html>")

    app = web.Application()
    app.router.add_post("/api/rest", html)
    async with TestServer(app, host="127.0.0.1") as server:
        api = PacketaApi(session, url=str(server.make_url("/api/rest")))
        with pytest.raises(CarrierUnavailable, match="not a <response>"):
            await api.track(BARCODE, TEST_API_PASSWORD)


async def test_a_slow_answer_is_an_outage(session: aiohttp.ClientSession) -> None:
    with PacketaFake(latency=1.0) as slow:
        slow.add_packet(PACKET)
        api = PacketaApi(session, url=slow.api_url, timeout=0.2)
        started = time.monotonic()
        with pytest.raises(CarrierUnavailable, match="in time"):
            await api.track(BARCODE, TEST_API_PASSWORD)

    assert time.monotonic() - started < 0.9


async def test_an_unreachable_packeta_is_an_outage(session: aiohttp.ClientSession) -> None:
    with PacketaFake() as gone:
        url = gone.api_url
    api = PacketaApi(session, url=url, timeout=2)

    with pytest.raises(CarrierUnavailable, match="request failed: ClientConnectorError"):
        await api.track(BARCODE, TEST_API_PASSWORD)


async def test_requests_keep_to_the_rate(fake: PacketaFake, session: aiohttp.ClientSession) -> None:
    journey(fake, 2)
    api = PacketaApi(session, url=fake.api_url, requests_per_second=20)

    started = time.monotonic()
    await asyncio.gather(*(api.track(BARCODE, TEST_API_PASSWORD) for _ in range(10)))
    took = time.monotonic() - started

    assert len(fake.requests) == 10
    assert 0.4 <= took < 3  # 9 gaps of 1/20 s: no burst at the start
