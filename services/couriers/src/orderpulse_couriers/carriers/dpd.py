"""DPD (CZ, SK, PL): the answer of DPD's Parcel Life Cycle tracking call, read into `Report`s.

The DPD group's Parcel Life Cycle service: the JSON answer of
`GET https://tracking.dpd.de/rest/plc/{locale}/{parcelLabelNumber}` (where DPD CZ's and SK's web
tracking lead), which carries the same `ParcelLifeCycleData` as the SOAP call `getParcelLifeCycle`
of DPD's Cloud / Shipper web services. (DPD PL also has its own SOAP API, DPDInfoServices
`getEventsForWaybillV1`, whose six-digit event codes DPD PL does not publish; it is not read.)

Its `statusInfo` lists every status of the parcel's life cycle, reached or not; the reached ones
are what happened, the rest DPD's forecast, so only reached ones become reports (and only those
with a `date`: a report needs a time, and DPD may leave it off the order-data status). `status`
is what we map.

The life cycle has six documented statuses and none of them says "at a pickup point", "failed"
or "returned": DPD tells those only in scans (`scanInfo`), whose codes DPD does not publish, so
they are not read: a DPD customer hears of the handover and the delivery only.

Sources: DPD Shipper web services, "ParcelLifeCycle Service REST API"
(https://integrations.dpd.nl/dpd-shipper/dpd-shipper-webservices-rest-api/parcellifecycle-service-rest-api/);
the status values as the WSDL of DPD Cloud Service's ParcelLifeCycleService/2.0 gives them,
embedded by github.com/very-code-com/dpd-de-php `src/Enum/TrackingStatus.php` (its SOAP fixture
`tests/Fixtures/get_parcel_life_cycle_success.xml` shows the same `statusInfo` fields); the JSON
field names (`parcellifecycleResponse.parcelLifeCycleData.statusInfo[].status`, `date`,
`location`, `description.content`) as open-source clients of tracking.dpd.de read them.
"""

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from orderpulse_couriers.carriers._parsing import (
    as_list,
    as_object,
    iso_moment,
    load_json,
    text,
)
from orderpulse_couriers.reports import Milestone, Report, UnreadablePayload

CARRIER = "dpd"

# DPD gives the local time of the depot that scanned, without an offset. CZ, SK and PL keep the
# same clock (CET/CEST, EU summer time rules), so Prague's is right for all three.
ZONE = ZoneInfo("Europe/Prague")

CODES: Mapping[str, Milestone] = MappingProxyType(
    {
        "SHIPMENT": Milestone.IGNORED,  # order data transmitted to DPD, parcel still at the shop
        "ACCEPTED": Milestone.HANDED_OVER,  # DPD has received the parcel
        "AT_SENDING_DEPOT": Milestone.IN_TRANSIT,  # at the sending depot
        "ON_THE_ROAD": Milestone.IN_TRANSIT,  # on the road between depots
        "AT_DELIVERY_DEPOT": Milestone.IN_TRANSIT,  # at the delivery depot (not yet on a van)
        "DELIVERED": Milestone.DELIVERED,  # delivered
    }
)

# The web answer writes the status time for people ("03.12.2026, 09:26"); ISO 8601 is read too.
_HUMAN_TIME = "%d.%m.%Y, %H:%M"


def read(payload: bytes) -> list[Report]:
    """Reports of a Parcel Life Cycle answer: the statuses the parcel reached, oldest first."""
    answer = as_object(load_json(payload, "DPD answer"), "DPD answer")
    response = as_object(answer.get("parcellifecycleResponse"), "DPD parcellifecycleResponse")
    data = as_object(response.get("parcelLifeCycleData"), "DPD parcelLifeCycleData")
    shipment = as_object(data.get("shipmentInfo"), "DPD shipmentInfo")
    number = text(shipment, "parcelLabelNumber")
    if number is None:
        raise UnreadablePayload("DPD shipmentInfo without a parcelLabelNumber")
    reports = []
    for item in as_list(data.get("statusInfo"), "DPD statusInfo"):
        status = as_object(item, "DPD statusInfo entry")
        if status.get("statusHasBeenReached") is True and text(status, "date") is not None:
            reports.append(_report(status, number))
    return sorted(reports, key=lambda report: report.time)


def _report(status: Mapping[str, object], number: str) -> Report:
    code = text(status, "status")
    if code is None:
        raise UnreadablePayload("DPD statusInfo entry without a status")
    return Report(
        carrier=CARRIER,
        tracking_number=number,
        code=code,
        milestone=CODES.get(code),
        time=_moment(text(status, "date")),
        location=text(status, "location"),
        note=_description(status),
    )


def _moment(value: str | None) -> datetime:
    if value is not None:
        try:
            return datetime.strptime(value, _HUMAN_TIME).replace(tzinfo=ZONE)
        except ValueError:
            pass
    return iso_moment(value, ZONE, "DPD status date")


def _description(status: Mapping[str, object]) -> str | None:
    description = status.get("description")
    if not isinstance(description, dict):
        return text(status, "label")
    lines = [line for line in as_list(description.get("content"), "DPD description") if line]
    return " ".join(str(line) for line in lines) or text(status, "label")
