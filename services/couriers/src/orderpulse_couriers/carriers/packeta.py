"""Packeta (Zásilkovna, Z-BOX): the answers of its REST/XML API's `packetTracking` and
`packetStatus` calls, read into `Report`s.

The service polls Packeta (its push tracking is not read here). `packetTracking`
gives the whole history of a packet (every status with its time), which makes a poll that missed
a status, or a restart, lose nothing; `packetStatus` gives only the current status, but with
`storedUntil` (how long the packet waits at the point), so both are read. Neither answer names the
packet, so the caller says which packet it asked about.

Sources: Packeta API reference (https://docs.packeta.com: "packetStatus", "packetTracking",
"Packet status codes"; formerly docs.packetery.com), checked against the status list Packeta's own
shop modules embed: github.com/Zasilkovna/prestashop `packetery/libs/PacketTracking/
PacketStatus.php` (codes and names) and github.com/Zasilkovna/WooCommerce
`src/Packetery/Core/Entity/PacketStatus.php` (names).
"""

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, time
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

CARRIER = "packeta"

# Packeta sends local time without an offset ("2026-03-02T09:15:00"); its clock is Prague's.
ZONE = ZoneInfo("Europe/Prague")

# Some third-party integrations also list codes 18-31 ("storage time expired", "zbox delivery
# attempt", ...); Packeta's own modules do not, and their numbers disagree, so they stay unmapped:
# heard, they are reported with no milestone and counted, until the reference confirms them.
CODES: Mapping[str, Milestone] = MappingProxyType(
    {
        "1": Milestone.IGNORED,  # received data: the shop has submitted the packet's data
        "2": Milestone.HANDED_OVER,  # arrived: accepted at a Packeta branch or depot
        "3": Milestone.IN_TRANSIT,  # prepared for departure: waits to leave the branch
        "4": Milestone.IN_TRANSIT,  # departed: on the way
        "5": Milestone.AT_PICKUP_POINT,  # ready for pickup: at its point, customer told by SMS
        "6": Milestone.IN_TRANSIT,  # handed to carrier: an external carrier delivers it
        "7": Milestone.PICKED_UP,  # delivered: picked up at branch branchId (see `_delivered`)
        "9": Milestone.RETURNED_TO_SENDER,  # posted back: on the way back to the sender
        "10": Milestone.RETURNED_TO_SENDER,  # returned: back with the sender
        "11": Milestone.IGNORED,  # cancelled: the shop cancelled the packet
        "12": Milestone.HANDED_OVER,  # collected: picked up from the sender, on the way to depot
        "14": Milestone.IN_TRANSIT,  # customs: customs declaration process
        "15": Milestone.IGNORED,  # reverse packet arrived: a return packet, not a delivery
        "16": Milestone.DELIVERY_FAILED,  # delivery attempt: Packeta Home could not deliver
        "17": Milestone.DELIVERY_FAILED,  # rejected by recipient: refused at the door
        "999": Milestone.IGNORED,  # unknown: Packeta itself does not know the status
    }
)

# Codes whose name says why a delivery failed; "delivery attempt" does not.
FAILURES: Mapping[str, FailureReason] = MappingProxyType({"17": FailureReason.REFUSED})

READY_FOR_PICKUP = "5"


def read(payload: bytes, *, packet_id: str) -> list[Report]:
    """Reports of a `packetTracking` or `packetStatus` answer about packet `packet_id`, oldest
    first."""
    result = _result(payload)
    records = result.findall("record")
    if records or result.find("statusCode") is None:
        reports = [_report(record, packet_id) for record in records]
    else:
        reports = [_report(result, packet_id)]
    return _delivered(sorted(reports, key=lambda report: report.time))


def _result(payload: bytes) -> ET.Element:
    # xml.etree does not resolve external entities, but it expands internal ones; no Packeta
    # answer has a DTD, so any is refused before parsing (no entity-expansion bombs).
    if b"<!DOCTYPE" in payload or b"<!ENTITY" in payload:
        raise UnreadablePayload("Packeta answer with a DTD")
    try:
        root = ET.fromstring(payload)
    except ET.ParseError:
        raise UnreadablePayload("Packeta answer is not well-formed XML") from None
    if root.tag != "response":
        raise UnreadablePayload("Packeta answer is not a <response>")
    if root.findtext("status") != "ok":
        raise UnreadablePayload("Packeta answered with a fault, not a result")
    result = root.find("result")
    if result is None:
        raise UnreadablePayload("Packeta answer has no <result>")
    return result


def _report(record: ET.Element, packet_id: str) -> Report:
    code = _text(record, "statusCode")
    if code is None or not code.isdigit():
        raise UnreadablePayload("Packeta status record without a numeric statusCode")
    milestone = CODES.get(code)
    at_point = milestone is Milestone.AT_PICKUP_POINT
    stored_until = _text(record, "storedUntil")
    return Report(
        carrier=CARRIER,
        tracking_number=packet_id,
        code=code,
        milestone=milestone,
        time=_moment(_text(record, "dateTime")),
        failure=FAILURES.get(code),
        note=_text(record, "statusText"),
        point_id=(_text(record, "destinationBranchId") or _text(record, "branchId"))
        if at_point
        else None,
        stored_until=_stored_until(stored_until) if at_point and stored_until else None,
    )


def _delivered(reports: list[Report]) -> list[Report]:
    """Code 7 is a pickup at a point; in a history with no "ready for pickup" before it, the
    packet went to an address (Packeta Home, external carrier), so it was delivered."""
    out: list[Report] = []
    seen_point = False
    for report in reports:
        seen_point = seen_point or report.code == READY_FOR_PICKUP
        if report.milestone is Milestone.PICKED_UP and not seen_point and len(reports) > 1:
            report = replace(report, milestone=Milestone.DELIVERED)
        out.append(report)
    return out


def _text(element: ET.Element, tag: str) -> str | None:
    text = element.findtext(tag)
    if text is None:
        return None
    return text.strip() or None


def _moment(text: str | None) -> datetime:
    if text is None:
        raise UnreadablePayload("Packeta status record without a dateTime")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UnreadablePayload("Packeta dateTime is not ISO 8601") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=ZONE)


def _stored_until(text: str) -> datetime:
    """`storedUntil` is a day ("2026-03-09"): the packet waits through its end, Prague time."""
    try:
        if len(text) == len("2026-03-09"):
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59), ZONE)
        return _moment(text)
    except ValueError:
        raise UnreadablePayload("Packeta storedUntil is not ISO 8601") from None
