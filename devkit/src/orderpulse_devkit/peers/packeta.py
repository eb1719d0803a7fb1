"""A fake of Packeta's REST/XML API (`POST /api/rest`), answering `packetTracking` and
`packetStatus` as Packeta does, for the couriers service's Packeta client.

Packeta's REST interface takes a POST of an XML document whose root is the method's name and
whose children are its arguments, and answers `<response><status>ok</status><result>…` or
`<response><status>fault</status><fault>NameFault</fault><string>…</string><detail/>`
(www.zasilkovna.cz/popis-api, "REST/XML"). The records' elements and their order are those of
the API reference's `StatusRecord` and `CurrentStatusRecord` (docs.packetery.com, "Packetery API
reference"; now docs.packeta.com), and of the records Packeta's PrestaShop module reads
(github.com/Zasilkovna/prestashop, `PacketStatusRecordFactory.php`). `IncorrectApiPasswordFault`
and `PacketIdFault` are the names Packeta's own modules handle (github.com/Zasilkovna/WooCommerce
`src/Packetery/Core/Api/Soap/Response/PacketsCourierLabelsPdf.php`, github.com/Zasilkovna/opencart3
`upload/system/library/Packetery/API/Exceptions/IncorrectApiPasswordFault.php`).
The fault for an unknown method or an unreadable body is not documented there: this fake answers
`UnknownMethodFault` and `IncorrectDataFault`, which the client treats as any other fault.
"""

import asyncio
import re
import threading
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from http import HTTPStatus
from typing import Self
from zoneinfo import ZoneInfo

from aiohttp import web

from orderpulse_devkit.peers._base import AiohttpThread, Peer

TEST_API_PASSWORD = "packeta-test-password"
PRAGUE = ZoneInfo("Europe/Prague")  # Packeta's dateTime is Prague's local time, with no offset
XML_TYPE = "text/xml"
METHODS = ("packetTracking", "packetStatus")

# "Packet status codes": codeText as the API sends it (Packeta's PrestaShop module's list), and
# a statusText in Czech like the one Packeta writes for the customer.
CODES: dict[str, tuple[str, str]] = {
    "1": ("received data", "Zásilka byla podána elektronicky."),
    "2": ("arrived", "Zásilka byla převzata na pobočce."),
    "3": ("prepared for departure", "Zásilka čeká na odeslání z pobočky."),
    "4": ("departed", "Zásilka je na cestě."),
    "5": ("ready for pickup", "Zásilka je připravena k vyzvednutí."),
    "6": ("handed to carrier", "Zásilka byla předána externímu dopravci."),
    "7": ("delivered", "Zásilka byla vydána."),
    "9": ("posted back", "Zásilka je na cestě zpět k odesílateli."),
    "10": ("returned", "Zásilka byla vrácena odesílateli."),
    "11": ("cancelled", "Zásilka byla stornována."),
    "12": ("collected", "Zásilka byla svezena od odesílatele."),
    "14": ("customs", "Zásilka prochází celním řízením."),
    "15": ("reverse packet arrived", "Zpětná zásilka byla převzata."),
    "16": ("delivery attempt", "Neúspěšný pokus o doručení."),
    "17": ("rejected by recipient", "Příjemce zásilku odmítl."),
    "999": ("unknown", "Neznámý stav zásilky."),
}
_RETURNING = {"9", "10"}
_PACKET_ID = re.compile(r"\d{10}")


@dataclass(frozen=True, slots=True)
class _Record:
    at: datetime
    code: str
    text: str
    branch_id: str
    stored_until: date | None


class PacketaFake(Peer):
    """`POST /api/rest` with Packeta's XML; `add_packet` and `add_status` say what it knows.

    Every request is in `requests` as (method, packetId), oldest first (also `GET
    /_fake/requests` for another process). `latency` delays every answer; requests overlap.
    """

    def __init__(
        self, passwords: Collection[str] = (TEST_API_PASSWORD,), *, latency: float = 0.0
    ) -> None:
        self.passwords, self.latency = frozenset(passwords), latency
        self._lock = threading.Lock()
        self._packets: dict[str, list[_Record]] = {}
        self._requests: list[tuple[str, str]] = []
        self._failures: deque[int] = deque()
        self._server = AiohttpThread("packeta-fake")

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/rest"

    @property
    def requests(self) -> list[tuple[str, str]]:
        """(method, packetId) of every request served, oldest first ("" where unreadable)."""
        with self._lock:
            return list(self._requests)

    def add_packet(self, packet_id: str) -> None:
        """A packet Packeta knows, with no status yet: its history is empty."""
        if not _PACKET_ID.fullmatch(packet_id):
            raise ValueError(f"a Packeta packet id is 10 digits, not {packet_id!r}")
        with self._lock:
            self._packets.setdefault(packet_id, [])

    def add_status(
        self,
        packet_id: str,
        code: int | str,
        at: datetime,
        *,
        branch_id: str = "4321",
        stored_until: date | None = None,
        text: str | None = None,
    ) -> None:
        """Append a status to the packet's history (the packet is created if new). `branch_id`
        is sent as both branchId and destinationBranchId; `text` is the statusText, by default
        the code's usual Czech one."""
        code = str(code)
        if not code.isdigit():
            raise ValueError(f"a Packeta status code is a number, not {code!r}")
        if at.tzinfo is None:
            raise ValueError("`at` must be timezone-aware: the fake sends it in Prague time")
        default = CODES.get(code, CODES["999"])[1]
        record = _Record(at, code, text if text is not None else default, branch_id, stored_until)
        self.add_packet(packet_id)
        with self._lock:
            self._packets[packet_id].append(record)

    def fail_next(self, status: int, count: int = 1) -> None:
        """Answer the next `count` requests with HTTP `status` and no XML."""
        with self._lock:
            self._failures.extend([status] * count)

    def reset(self) -> None:
        """Forget packets, requests and pending scripted failures."""
        with self._lock:
            self._packets.clear()
            self._requests.clear()
            self._failures.clear()

    def start(self) -> Self:
        app = web.Application()
        app.router.add_post("/api/rest", self._rest)
        app.router.add_get("/_fake/requests", self._list)
        self.port = self._server.start(app)
        return self

    def stop(self) -> None:
        self._server.stop()

    async def _list(self, request: web.Request) -> web.Response:
        return web.json_response([list(r) for r in self.requests])

    async def _rest(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        call = _parse(await request.read())
        method = call.tag if call is not None else ""
        packet_id = (call.findtext("packetId") or "").strip() if call is not None else ""
        with self._lock:
            self._requests.append((method, packet_id))
            failure = self._failures.popleft() if self._failures else None
            history = list(self._packets.get(packet_id, ()))
            known = packet_id in self._packets
        if failure:
            return web.Response(status=failure, text=HTTPStatus(failure).phrase)
        if call is None:
            return _fault("IncorrectDataFault", "Request is not a well-formed XML document.")
        if method not in METHODS:
            return _fault("UnknownMethodFault", f"Unknown method {method}.")
        if (call.findtext("apiPassword") or "") not in self.passwords:
            return _fault("IncorrectApiPasswordFault", "Incorrect API password.")
        if not known:
            return _fault("PacketIdFault", f"Packet ID {packet_id} does not exist.")
        result = ET.Element("result")
        if method == "packetTracking":
            for record in history:
                _fill(ET.SubElement(result, "record"), record)
        elif history:  # packetStatus: the current status, and what only it knows
            latest = history[-1]
            _fill(result, latest)
            _add(result, "isReturning", "true" if latest.code in _RETURNING else "false")
            _add(
                result,
                "storedUntil",
                latest.stored_until.isoformat() if latest.stored_until else None,
            )
            _add(result, "carrierId", None)
            _add(result, "carrierName", None)
        return _answer("ok", result)


def _parse(body: bytes) -> ET.Element | None:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        return None
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        return None


def _fill(element: ET.Element, record: _Record) -> None:
    prague = record.at.astimezone(PRAGUE).replace(tzinfo=None)
    _add(element, "dateTime", prague.isoformat(timespec="seconds"))
    _add(element, "statusCode", record.code)
    _add(element, "codeText", CODES.get(record.code, CODES["999"])[0])
    _add(element, "statusText", record.text)
    _add(element, "branchId", record.branch_id)
    _add(element, "destinationBranchId", record.branch_id)
    _add(element, "externalTrackingCode", None)


def _add(parent: ET.Element, tag: str, text: str | None) -> None:
    ET.SubElement(parent, tag).text = text or ""


def _fault(name: str, text: str) -> web.Response:
    fault = ET.Element("fault")
    fault.text = name
    string = ET.Element("string")
    string.text = text
    return _answer("fault", fault, string, ET.Element("detail"))


def _answer(status: str, *children: ET.Element) -> web.Response:
    root = ET.Element("response")
    _add(root, "status", status)
    root.extend(children)
    body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return web.Response(body=body, content_type=XML_TYPE, charset="utf-8")
