"""The Packeta fake answers `packetTracking` and `packetStatus` in Packeta's REST/XML format, its
faults included, over real HTTP; and scripts failures and latency."""

import asyncio
import json
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime

import aiohttp
import pytest

from orderpulse_devkit.peers import TEST_API_PASSWORD, PacketaFake

PACKET = "2045718836"
RECORD = [
    "dateTime",
    "statusCode",
    "codeText",
    "statusText",
    "branchId",
    "destinationBranchId",
    "externalTrackingCode",
]


@pytest.fixture(scope="module")
def fake() -> Iterator[PacketaFake]:
    with PacketaFake() as peer:
        yield peer


@pytest.fixture
async def session(fake: PacketaFake) -> AsyncIterator[aiohttp.ClientSession]:
    fake.reset()
    async with aiohttp.ClientSession() as session:
        yield session


def request(method: str, packet_id: str = PACKET, password: str = TEST_API_PASSWORD) -> bytes:
    root = ET.Element(method)
    ET.SubElement(root, "apiPassword").text = password
    ET.SubElement(root, "packetId").text = packet_id
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


async def post(
    session: aiohttp.ClientSession, fake: PacketaFake, body: bytes
) -> tuple[int, ET.Element]:
    async with session.post(
        fake.api_url, data=body, headers={"Content-Type": "text/xml; charset=utf-8"}
    ) as answer:
        assert answer.content_type == "text/xml"
        return answer.status, ET.fromstring(await answer.read())


def fields(element: ET.Element) -> dict[str, str]:
    return {child.tag: child.text or "" for child in element}


async def test_tracking_answers_every_record_in_packetas_format(
    fake: PacketaFake, session: aiohttp.ClientSession
) -> None:
    fake.add_status(PACKET, 1, datetime(2026, 3, 2, 8, 15, 12, tzinfo=UTC), branch_id="")
    fake.add_status(PACKET, "5", datetime(2026, 3, 3, 9, 5, 31, tzinfo=UTC))

    status, answer = await post(session, fake, request("packetTracking"))

    assert status == 200
    assert [child.tag for child in answer] == ["status", "result"]
    assert answer.findtext("status") == "ok"
    records = answer.findall("result/record")
    assert [[child.tag for child in record] for record in records] == [RECORD, RECORD]
    assert fields(records[0]) == {
        "dateTime": "2026-03-02T09:15:12",  # Prague's winter time, no offset
        "statusCode": "1",
        "codeText": "received data",
        "statusText": "Zásilka byla podána elektronicky.",
        "branchId": "",
        "destinationBranchId": "",
        "externalTrackingCode": "",
    }
    assert fields(records[1])["dateTime"] == "2026-03-03T10:05:31"
    assert fields(records[1])["codeText"] == "ready for pickup"
    assert fake.requests == [("packetTracking", PACKET)]


async def test_summer_time_and_a_known_packet_with_no_status(
    fake: PacketaFake, session: aiohttp.ClientSession
) -> None:
    fake.add_status(PACKET, 4, datetime(2026, 7, 1, 10, 0, tzinfo=UTC), text="Na cestě")
    fake.add_packet("1234567890")

    _, summer = await post(session, fake, request("packetTracking"))
    _, empty = await post(session, fake, request("packetTracking", "1234567890"))

    assert fields(summer.findall("result/record")[0])["dateTime"] == "2026-07-01T12:00:00"
    assert fields(summer.findall("result/record")[0])["statusText"] == "Na cestě"
    assert empty.findtext("status") == "ok"
    result = empty.find("result")
    assert result is not None and list(result) == []


async def test_status_answers_the_latest_record_with_what_only_it_has(
    fake: PacketaFake, session: aiohttp.ClientSession
) -> None:
    fake.add_status(PACKET, 2, datetime(2026, 3, 2, 15, 40, tzinfo=UTC), branch_id="1002")
    fake.add_status(
        PACKET, 5, datetime(2026, 3, 3, 9, 5, 31, tzinfo=UTC), stored_until=date(2026, 3, 10)
    )

    status, answer = await post(session, fake, request("packetStatus"))

    assert status == 200
    result = answer.find("result")
    assert result is not None
    assert [child.tag for child in result] == [
        *RECORD,
        "isReturning",
        "storedUntil",
        "carrierId",
        "carrierName",
    ]
    assert fields(result) == {
        "dateTime": "2026-03-03T10:05:31",
        "statusCode": "5",
        "codeText": "ready for pickup",
        "statusText": "Zásilka je připravena k vyzvednutí.",
        "branchId": "4321",
        "destinationBranchId": "4321",
        "externalTrackingCode": "",
        "isReturning": "false",
        "storedUntil": "2026-03-10",
        "carrierId": "",
        "carrierName": "",
    }


async def test_a_packet_on_its_way_back_is_returning_and_stored_until_is_empty_unless_set(
    fake: PacketaFake, session: aiohttp.ClientSession
) -> None:
    fake.add_status(PACKET, 9, datetime(2026, 3, 11, 5, 12, tzinfo=UTC))

    _, answer = await post(session, fake, request("packetStatus"))

    assert answer.findtext("result/isReturning") == "true"
    assert answer.findtext("result/storedUntil") == ""
    assert answer.findtext("result/codeText") == "posted back"


@pytest.mark.parametrize(
    ("body", "fault"),
    [
        (request("packetTracking", password="wrong"), "IncorrectApiPasswordFault"),
        (request("packetTracking", packet_id="9999999999"), "PacketIdFault"),
        (request("packetStatus", packet_id="Z 204"), "PacketIdFault"),
        (request("createPacket"), "UnknownMethodFault"),
        (b"<packetTracking><apiPassword>", "IncorrectDataFault"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><packetTracking/>', "IncorrectDataFault"),
    ],
)
async def test_faults_are_answered_as_packeta_answers_them(
    fake: PacketaFake, session: aiohttp.ClientSession, body: bytes, fault: str
) -> None:
    fake.add_status(PACKET, 1, datetime(2026, 3, 2, 8, 15, tzinfo=UTC))

    status, answer = await post(session, fake, body)

    assert status == 200  # a fault is an answer, not an HTTP error
    assert [child.tag for child in answer] == ["status", "fault", "string", "detail"]
    assert answer.findtext("status") == "fault"
    assert answer.findtext("fault") == fault
    assert answer.findtext("string")
    assert "wrong" not in (answer.findtext("string") or "")


async def test_fail_next_answers_http_errors_then_serves_again(
    fake: PacketaFake, session: aiohttp.ClientSession
) -> None:
    fake.add_status(PACKET, 1, datetime(2026, 3, 2, 8, 15, tzinfo=UTC))
    fake.fail_next(503, 2)
    fake.fail_next(429)

    statuses = []
    for _ in range(4):
        async with session.post(fake.api_url, data=request("packetTracking")) as answer:
            statuses.append(answer.status)

    assert statuses == [503, 503, 429, 200]
    assert fake.requests == [("packetTracking", PACKET)] * 4


async def test_latency_delays_answers_that_overlap() -> None:
    with PacketaFake(latency=0.3) as slow:
        slow.add_packet(PACKET)
        async with aiohttp.ClientSession() as session:
            started = asyncio.get_running_loop().time()
            await asyncio.gather(
                *(post(session, slow, request("packetTracking")) for _ in range(5))
            )
            took = asyncio.get_running_loop().time() - started

    assert 0.3 <= took < 1.2


def test_usable_from_sync_code_and_another_process_by_url() -> None:
    with PacketaFake(passwords=["other"]) as fake:
        fake.add_status(PACKET, 7, datetime(2026, 3, 4, 16, 48, tzinfo=UTC))
        call = urllib.request.Request(
            fake.api_url, data=request("packetTracking", password="other")
        )
        with urllib.request.urlopen(call, timeout=5) as answer:
            tracked = ET.fromstring(answer.read())
        with urllib.request.urlopen(f"{fake.url}/_fake/requests", timeout=5) as answer:
            seen = json.loads(answer.read())

    assert tracked.findtext("result/record/codeText") == "delivered"
    assert seen == [["packetTracking", PACKET]]


def test_statuses_need_a_packet_id_a_numeric_code_and_an_aware_time() -> None:
    fake = PacketaFake()
    with pytest.raises(ValueError, match="10 digits"):
        fake.add_packet("Z2045718836")
    with pytest.raises(ValueError, match="number"):
        fake.add_status(PACKET, "ready", datetime(2026, 3, 2, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        fake.add_status(PACKET, 5, datetime(2026, 3, 2))
