"""Packeta's tracking API asked over HTTP: a packet's history, and how long it waits at its point.

Failures are the poller's (`orderpulse_couriers.polling`): `CarrierUnavailable` (network,
timeout, HTTP error, not Packeta's XML: try again later) and `CarrierRefused` (Packeta answered a
fault, or the number is not a Packeta packet's).

Packeta's REST interface is a POST to `https://www.zasilkovna.cz/api/rest` of an XML document
whose root is the method and whose children its arguments (`<packetTracking><apiPassword>…
</apiPassword><packetId>…</packetId></packetTracking>`); it answers HTTP 200 with `<response>`,
whose `<status>` is `ok` (then `<result>`) or `fault` (then `<fault>`, the fault's name, and
`<string>`): www.zasilkovna.cz/popis-api "REST/XML", docs.packetery.com "Packetery API reference"
(now docs.packeta.com). Packeta's own modules call the same methods over SOAP and tell faults by
name: `IncorrectApiPasswordFault` (github.com/Zasilkovna/opencart3,
`upload/system/library/Packetery/API/Exceptions/IncorrectApiPasswordFault.php`), `PacketIdFault`
(github.com/Zasilkovna/WooCommerce, `src/Packetery/Core/Api/Soap/Response/
PacketsCourierLabelsPdf.php`). The body is sent as `text/xml; charset=utf-8`, as those SOAP 1.1
clients send theirs; the REST page names no content type.
"""

import re
import xml.etree.ElementTree as ET

import aiohttp
from aiolimiter import AsyncLimiter

from orderpulse_couriers.carriers import packeta
from orderpulse_couriers.polling import CarrierRefused, CarrierUnavailable
from orderpulse_couriers.reports import Report, UnreadablePayload

DEFAULT_URL = "https://www.zasilkovna.cz/api/rest"
CONTENT_TYPE = "text/xml; charset=utf-8"
PACKET_ID_FAULT = "PacketIdFault"

# A barcode is "Z" and the 10-digit packet id; shops print it grouped ("Z 204 5718 836").
_BARCODE = re.compile(r"[Zz]?(\d{10})")
_FAULT_NAME = re.compile(r"[A-Za-z]{1,64}")


class PacketaApi:
    """Polls Packeta's `packetTracking` and `packetStatus`, every request of this client through
    one rate limiter (`requests_per_second`, no bursts) and each within `timeout` seconds; on
    `session`, or on one of its own (then `close` it)."""

    def __init__(
        self,
        session: aiohttp.ClientSession | None = None,
        *,
        url: str = DEFAULT_URL,
        requests_per_second: float = 5.0,
        timeout: float = 10.0,
    ) -> None:
        if requests_per_second <= 0 or timeout <= 0:
            raise ValueError("requests_per_second and timeout must be positive")
        self._session, self._own_session, self._url = session, session is None, url
        self._limiter = AsyncLimiter(1, 1 / requests_per_second)
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def close(self) -> None:
        """Close the session this client opened itself (none was given)."""
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def track(self, tracking_number: str, password: str) -> list[Report]:
        """The packet's whole history (packetTracking), oldest first; when its latest status is
        "ready for pickup" (code 5), packetStatus too, whose answer alone has storedUntil (its
        report replaces the history's of the same status, or comes after it)."""
        packet_id = packet_id_of(tracking_number)
        history = await self._ask("packetTracking", packet_id, password, tracking_number)
        if history and history[-1].code == packeta.READY_FOR_PICKUP:
            current = await self._ask("packetStatus", packet_id, password, tracking_number)
            if [(r.code, r.time) for r in current] == [(history[-1].code, history[-1].time)]:
                history.pop()  # the same status, told once: with its storedUntil
            history += current
        return history

    async def _ask(
        self, method: str, packet_id: str, password: str, tracking_number: str
    ) -> list[Report]:
        payload = await self._post(_request(method, packet_id, password))
        fault = _fault(payload)
        if fault is not None:
            raise CarrierRefused(fault, f"Packeta refused {method}: {fault}")
        try:
            return packeta.read(payload, packet_id=tracking_number)
        except UnreadablePayload as error:
            raise CarrierUnavailable(f"Packeta {method}: {error}") from None

    async def _post(self, body: bytes) -> bytes:
        if self._session is None:  # opened in the running loop, at the first request
            self._session = aiohttp.ClientSession()
        async with self._limiter:
            try:
                async with self._session.post(
                    self._url,
                    data=body,
                    headers={"Content-Type": CONTENT_TYPE},
                    timeout=self._timeout,
                ) as answer:
                    if answer.status != 200:
                        raise CarrierUnavailable(f"Packeta answered HTTP {answer.status}")
                    return await answer.read()
            except TimeoutError:
                raise CarrierUnavailable("Packeta did not answer in time") from None
            except aiohttp.ClientError as error:
                raise CarrierUnavailable(
                    f"Packeta request failed: {type(error).__name__}"
                ) from None


def packet_id_of(tracking_number: str) -> str:
    """The 10-digit packet id of a Packeta barcode ("Z2045718836", "Z 204 5718 836")."""
    match = _BARCODE.fullmatch("".join(tracking_number.split()))
    if match is None:
        raise CarrierRefused(PACKET_ID_FAULT, "not a Packeta packet number; Packeta not asked")
    return match.group(1)


def _request(method: str, packet_id: str, password: str) -> bytes:
    root = ET.Element(method)
    ET.SubElement(root, "apiPassword").text = password
    ET.SubElement(root, "packetId").text = packet_id
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body


def _fault(payload: bytes) -> str | None:
    """The name of the fault Packeta answered, if it answered one (a name that is not one is
    not repeated: it would quote the answer)."""
    if b"<!DOCTYPE" in payload or b"<!ENTITY" in payload:
        return None  # `packeta.read` refuses it
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        return None
    if root.tag != "response" or root.findtext("status") != "fault":
        return None
    name = (root.findtext("fault") or "").strip()
    return name if _FAULT_NAME.fullmatch(name) else "unnamed fault"
