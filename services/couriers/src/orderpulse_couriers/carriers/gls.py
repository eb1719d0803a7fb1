"""GLS (CZ, SK, PL and the other MyGLS countries): the answer of the MyGLS API's
`GetParcelStatuses` call, read into `Report`s.

GLS pushes nothing, so the service polls `POST https://api.mygls.{cz,sk,…}/ParcelService.svc/json/
GetParcelStatuses` with one `ParcelNumber`. The JSON answer carries the parcel's whole history in
`ParcelStatusList` (`StatusCode`, `StatusDate`, `StatusDescription`, `StatusInfo`, `DepotCity`,
`DepotNumber`), so a missed poll or a restart loses nothing. `StatusCode` is what we map.

Sources: "MyGLS API for system integration" (GLS's API manual, GetParcelStatuses and its appendix
of parcel status codes, https://fdocuments.net/document/mygls-api-for-system-integration.html);
the status codes as the MyGLS PHP SDK embeds them: github.com/webapix/mygls-sdk
`src/Models/ParcelStatus.php`, its answer shape `src/Responses/GetParcelStatuses.php` and
`tests/Factories/GetParcelStatusesFactory.php`.
"""

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderpulse_couriers.carriers._parsing import (
    as_list,
    as_object,
    collected_at_point,
    iso_moment,
    load_json,
    text,
)
from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

CARRIER = "gls"

# MyGLS (a WCF service) sends times as "/Date(milliseconds since 1970 UTC+offset)/", which need
# no zone. A time in ISO 8601 without an offset is read as Prague's: CZ, SK, PL, HU, HR and SI
# keep the same clock (CET/CEST); RO alone is an hour ahead.
ZONE = ZoneInfo("Europe/Prague")

CODES: Mapping[str, Milestone] = MappingProxyType(
    {
        "1": Milestone.HANDED_OVER,  # APL registration: GLS has the parcel
        "2": Milestone.IN_TRANSIT,  # hub outbound scan: left the parcel centre
        "3": Milestone.IN_TRANSIT,  # depot entry: reached the parcel centre
        "4": Milestone.OUT_FOR_DELIVERY,  # delivery list scan: to be delivered today
        "5": Milestone.DELIVERED,  # delivered (collected, after a ParcelShop)
        "6": Milestone.IN_TRANSIT,  # hub storage: stored in the parcel centre
        "7": Milestone.IN_TRANSIT,  # depot storage: stored in the depot
        "8": Milestone.PICKED_UP,  # picked up by the recipient at the GLS depot
        "9": Milestone.IN_TRANSIT,  # fixed delivery: stored for an agreed new delivery day
        "11": Milestone.DELIVERY_FAILED,  # holiday: recipient on holiday
        "12": Milestone.DELIVERY_FAILED,  # notice left: recipient absent, notification card left
        "13": Milestone.DELAYED,  # depot routing failure: sorted wrongly at the depot
        "14": Milestone.DELIVERY_FAILED,  # closed: recipient's premises closed
        "15": Milestone.DELAYED,  # lack of time: not delivered today for lack of time
        "16": Milestone.DELIVERY_FAILED,  # lack of money: recipient could not pay the COD
        "17": Milestone.DELIVERY_FAILED,  # refused: recipient refused the parcel
        "18": Milestone.DELIVERY_FAILED,  # wrong address
        "19": Milestone.DELIVERY_FAILED,  # unreachable: recipient could not be reached
        "20": Milestone.DELIVERY_FAILED,  # wrong zip code
        "21": Milestone.DELAYED,  # missorted
        "22": Milestone.IN_TRANSIT,  # back to hub: sent from the depot back to the hub
        "23": Milestone.RETURNED_TO_SENDER,  # back to the shipper
        "24": Milestone.IN_TRANSIT,  # depot redelivery: to be delivered again
        "25": Milestone.DELAYED,  # misrouted
        "26": Milestone.IN_TRANSIT,  # hub inbound
        "27": Milestone.IGNORED,  # small parcel: a sorting note
        "28": Milestone.DELAYED,  # hub damaged: damaged in the hub, repacked
        "29": Milestone.IGNORED,  # no data available for the parcel
        "30": Milestone.DELIVERY_FAILED,  # damaged: found damaged at delivery
        "31": Milestone.DELIVERY_FAILED,  # totally damaged
        "32": Milestone.OUT_FOR_DELIVERY,  # delivery in the evening
        "33": Milestone.DELIVERY_FAILED,  # too many waiting: waited too long at the recipient
        "34": Milestone.DELIVERY_FAILED,  # delivery too late: came after the recipient's hours
        "35": Milestone.DELIVERY_FAILED,  # not ordered: recipient says they never ordered it
        "36": Milestone.DELIVERY_FAILED,  # closed entrance: no way in
        "37": Milestone.DELIVERY_FAILED,  # central ordered: recipient's head office ordered it
        "38": Milestone.DELIVERY_FAILED,  # no delivery note
        "39": Milestone.DELIVERY_FAILED,  # recipient would not confirm the delivery note
        "43": Milestone.DELIVERY_FAILED,  # lost: no delivery will follow
        "44": Milestone.IGNORED,  # not a system-like parcel: needs manual handling
        "46": Milestone.IGNORED,  # change of delivery address recorded
        "47": Milestone.IN_TRANSIT,  # transferred to a subcontractor for delivery
        "51": Milestone.IGNORED,  # data sent: the shop's parcel data reached GLS
        "52": Milestone.IGNORED,  # COD data sent
        "53": Milestone.IN_TRANSIT,  # depot transit
        "55": Milestone.AT_PICKUP_POINT,  # ParcelShop deposit: delivered to a ParcelShop
        "56": Milestone.AT_PICKUP_POINT,  # ParcelShop storage: waits in the ParcelShop
        "57": Milestone.RETURNED_TO_SENDER,  # ParcelShop return: not collected, goes back
        "58": Milestone.DELIVERED,  # delivered to a neighbour
        "80": Milestone.IGNORED,  # changed delivery address
        "81": Milestone.IGNORED,  # request for information, normal
        "82": Milestone.DELAYED,  # request forwarded: misrouted
        "83": Milestone.IGNORED,  # Pick&Ship / Pick&Return registered
        "84": Milestone.IGNORED,  # Pick&Ship / Pick&Return label printed
        "85": Milestone.IGNORED,  # Pick&Ship / Pick&Return on the pickup round
        "86": Milestone.HANDED_OVER,  # Pick&Ship / Pick&Return picked up from the sender
        "87": Milestone.IGNORED,  # Pick&Ship / Pick&Return parcel
        "88": Milestone.IGNORED,  # pickup: parcel not ready at the sender
        "89": Milestone.IGNORED,  # pickup: insufficient label
        "90": Milestone.IGNORED,  # pickup: posted via a different mode
        "91": Milestone.IGNORED,  # Pick&Ship / Pick&Return cancelled
        "94": Milestone.IGNORED,  # parcel point (csomagpont) data updated
    }
)

# Codes that say why a delivery failed.
FAILURES: Mapping[str, FailureReason] = MappingProxyType(
    {
        "11": FailureReason.RECIPIENT_ABSENT,
        "12": FailureReason.RECIPIENT_ABSENT,
        "14": FailureReason.RECIPIENT_ABSENT,
        "16": FailureReason.OTHER,
        "17": FailureReason.REFUSED,
        "18": FailureReason.ADDRESS_NOT_FOUND,
        "19": FailureReason.RECIPIENT_ABSENT,
        "20": FailureReason.ADDRESS_NOT_FOUND,
        "30": FailureReason.DAMAGED,
        "31": FailureReason.DAMAGED,
        "35": FailureReason.REFUSED,
        "36": FailureReason.NO_ACCESS,
        "39": FailureReason.REFUSED,
    }
)

_WCF_DATE = re.compile(r"/Date\((-?\d+)([+-]\d{4})?\)/")


def read(payload: bytes) -> list[Report]:
    """Reports of a `GetParcelStatuses` answer, oldest first."""
    answer = as_object(load_json(payload, "GLS answer"), "GLS answer")
    statuses = as_list(answer.get("ParcelStatusList"), "GLS ParcelStatusList")
    if not statuses and as_list(answer.get("GetParcelStatusErrors"), "GLS errors"):
        raise UnreadablePayload("GLS answered with errors, not statuses")
    number = text(answer, "ParcelNumber")
    if number is None:
        raise UnreadablePayload("GLS answer without a ParcelNumber")
    reports = [_report(as_object(item, "GLS parcel status"), number) for item in statuses]
    reports.sort(key=lambda report: report.time)
    return collected_at_point(reports)


def _report(status: Mapping[str, object], number: str) -> Report:
    code = text(status, "StatusCode")
    if code is None:
        raise UnreadablePayload("GLS parcel status without a StatusCode")
    key = code.lstrip("0") or code  # "05" and "5" are the same status
    return Report(
        carrier=CARRIER,
        tracking_number=number,
        code=code,
        milestone=CODES.get(key),
        time=_moment(text(status, "StatusDate")),
        location=text(status, "DepotCity"),
        failure=FAILURES.get(key),
        note=text(status, "StatusDescription"),
    )


def _moment(value: str | None) -> datetime:
    match = _WCF_DATE.fullmatch(value) if value else None
    if match is None:
        return iso_moment(value, ZONE, "GLS StatusDate")
    try:
        instant = datetime.fromtimestamp(int(match[1]) / 1000, UTC)
        offset = match[2]
        if offset is None:
            return instant
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
        return instant.astimezone(timezone(sign * shift))
    except (ValueError, OverflowError, OSError):
        raise UnreadablePayload("GLS StatusDate is out of range") from None
